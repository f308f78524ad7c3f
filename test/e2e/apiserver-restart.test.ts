// Restarting the API server (its own control plane): dispatching never stops and the watch resumes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { startControlPlane } from '../testbed/cluster.ts';

test('an API server restart neither stops dispatching nor the watch', { timeout: 300_000 }, async () => {
  const cluster = await startControlPlane();
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const queue = 'apiserver-restart';
  try {
    const ns = await operatorNamespace(cluster, 'e2e-restart');
    await cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(ns.namespace, 'steady', {
        interval: { every: 1, period: 'seconds' },
        options: { queue },
      }),
    });
    const operator = startClusterOperator(ns, server.url);
    try {
      await waitUntil('runs', async () => (await redis.llen(queue)) >= 2, 30_000);
      const restartFrom = Date.now();
      await cluster.restartApiServer();
      const restartTo = Date.now();
      const slots = (await redis.lrange(queue, 0, -1))
        .map((raw) => Date.parse(JSON.parse(raw).headers.periodic_task_scheduled_at))
        .filter((s) => s >= restartFrom && s <= restartTo);
      assert.ok(
        slots.length >= Math.floor((restartTo - restartFrom) / 1000) - 1,
        `runs went on while the API server was down (${slots.length} in ${restartTo - restartFrom} ms)`,
      );
      await cluster.kubectl(['apply', '-f', '-'], {
        input: periodicTask(ns.namespace, 'after-restart', {
          interval: { every: 1, period: 'seconds' },
          options: { queue },
        }),
      });
      await waitUntil(
        'the watch delivers a resource created after the restart',
        async () => (await redis.exists(`tasks:meta:${ns.namespace}/after-restart`)) === 1,
        90_000,
        250,
      );
    } finally {
      await operator.stop();
    }
  } finally {
    redis.disconnect();
    await server.stop();
    await cluster.stop();
  }
});
