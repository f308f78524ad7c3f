// Two releases of the operator on one Redis with the default key prefix, each watching its own namespace
// (as the chart's watchNamespace makes them), against the real API server: neither's prune deletes the
// other's keys, and the run counts of both keep growing (docs/sharing-redis.md).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';

let cluster: ClusterHandle;
let server: RedisServer;
let redis: Redis;
const releases: Array<{ ns: OperatorNamespace; operator: OperatorProcess }> = [];

async function runCount(key: string): Promise<number> {
  const raw = await redis.get(key);
  return raw === null ? -1 : (JSON.parse(raw) as { total_run_count: number }).total_run_count;
}

const prunePasses = (operator: OperatorProcess) =>
  operator.logs().filter((l) => l.msg === 'prune pass done').length;

describe('two releases with disjoint namespaces on one Redis', { timeout: 240_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    server = await startRedisServer();
    redis = new Redis(server.url);
    for (const prefix of ['share-a', 'share-b']) {
      const ns = await operatorNamespace(cluster, prefix);
      await cluster.kubectl(['apply', '-f', '-'], {
        input: periodicTask(ns.namespace, 'job', { interval: { every: 1, period: 'seconds' } }),
      });
      // A short resync: each operator prunes every second.
      const operator = startClusterOperator(ns, server.url, ['--resync-period', '1']);
      releases.push({ ns, operator });
      await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    }
  });

  after(async () => {
    for (const { operator } of releases) await operator.stop();
    redis?.disconnect();
    await server?.stop();
  });

  test("each prunes only its own keys: the other's run state survives and keeps counting", async () => {
    const keys = releases.map(({ ns }) => `tasks:meta:${ns.namespace}/job`);
    await waitUntil(
      'both tasks run',
      async () => (await Promise.all(keys.map(runCount))).every((n) => n >= 1),
      30_000,
    );
    const counts = await Promise.all(keys.map(runCount));
    const passes = releases.map(({ operator }) => prunePasses(operator));
    // Several prune passes of both, each with the other's key in Redis.
    await waitUntil(
      'three more prune passes of each operator',
      () => releases.every(({ operator }, i) => prunePasses(operator) >= passes[i]! + 3),
      30_000,
    );
    for (const { ns, operator } of releases) {
      const pruned = operator
        .logs()
        .filter((l) => l.msg === 'pruned key of a resource that no longer exists');
      assert.deepEqual(pruned, [], `the operator of ${ns.namespace} pruned nothing`);
    }
    const later = await Promise.all(keys.map(runCount));
    for (const [i, key] of keys.entries()) {
      assert.ok(later[i]! > counts[i]!, `${key}: ${counts[i]} runs, then ${later[i]}`);
    }
    for (const [i, { ns }] of releases.entries()) {
      const owner = JSON.parse((await redis.get(keys[i]!))!).owner;
      assert.equal(owner.operator, `${ns.namespace}/celerybeat-operator`, 'the key names its operator');
    }
    const registry = await redis.hgetall('celerybeat-operator:operators');
    assert.deepEqual(
      Object.keys(registry).sort(),
      releases.map(({ ns }) => `${ns.namespace}/celerybeat-operator`).sort(),
    );
  });
});
