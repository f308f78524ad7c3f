// 1,000 PeriodicTasks applied at once: every key lands in Redis and every status is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import {
  applyManyTasks,
  operatorNamespace,
  startClusterOperator,
  tasksWithStatus,
} from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

const COUNT = 1000;

test(`${COUNT} resources: every key present and every status written`, { timeout: 300_000 }, async (t) => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-many');
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const operator = startClusterOperator(ns, server.url, ['--kube-api-qps', '200', '--kube-api-burst', '400']);
  try {
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    const start = Date.now();
    await applyManyTasks(cluster, ns.namespace, COUNT);
    const applied = Date.now();
    const keys = async (): Promise<number> => (await redis.keys(`tasks:meta:${ns.namespace}/*`)).length;
    await waitUntil('every key', async () => (await keys()) === COUNT, 120_000, 200);
    const keysAt = Date.now();
    await waitUntil(
      'every status',
      async () => (await tasksWithStatus(cluster, ns.namespace)) === COUNT,
      180_000,
      1000,
    );
    const statusAt = Date.now();
    t.diagnostic(`kubectl apply of ${COUNT}: ${applied - start} ms`);
    t.diagnostic(`all ${COUNT} keys in Redis: ${keysAt - start} ms after the apply started`);
    t.diagnostic(`all ${COUNT} statuses written: ${statusAt - start} ms after the apply started (qps 200)`);
    const sample = JSON.parse((await redis.get(`tasks:meta:${ns.namespace}/many-7`))!);
    assert.deepEqual(sample.args, [7]);
    assert.deepEqual(sample.interval, { every: 1, period: 'hours' });
  } finally {
    await operator.stop();
    redis.disconnect();
    await server.stop();
  }
});
