// A new leader dispatches from Redis before its informer has synced: leader A runs two tasks and is killed;
// B starts with its API server connection frozen (a TCP relay: its informer cannot list), takes the Redis
// lock and sends what is due from the keys A wrote. One task is deleted while B cannot see the API server;
// once B's informer syncs, that task never runs again and its key is deleted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import {
  apiServerPort,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
  throughPort,
} from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { tcpRelay } from '../support/tcp-relay.ts';
import { sharedCluster } from '../testbed/cluster.ts';

test('a new leader sends due runs from Redis before its informer syncs; a task deleted meanwhile never runs after the sync', {
  timeout: 180_000,
}, async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-store-load');
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const queue = 'store-load';
  const relay = await tcpRelay(await apiServerPort(ns.kubeconfig));
  const every = { interval: { every: 1, period: 'seconds' }, options: { queue } };
  const runsOf = async (name: string): Promise<number> =>
    (await redis.lrange(queue, 0, -1)).filter(
      (raw) => JSON.parse(raw).headers.periodic_task_name === `${ns.namespace}/${name}`,
    ).length;
  const a = startClusterOperator(ns, server.url, ['--leader-elect', 'redis']);
  let b: ReturnType<typeof startClusterOperator> | undefined;
  try {
    for (const name of ['kept', 'deleted']) {
      await cluster.kubectl(['apply', '-f', '-'], { input: periodicTask(ns.namespace, name, every) });
    }
    await waitUntil(
      'A runs both',
      async () => (await runsOf('kept')) >= 2 && (await runsOf('deleted')) >= 2,
      20_000,
    );
    await a.kill();
    // The lock A held would expire on its own: taken away now, as its expiry would.
    await redis.del('celerybeat-operator:leader:tasks:meta:');

    relay.freeze();
    b = startClusterOperator(
      { ...ns, kubeconfig: await throughPort(ns.kubeconfig, relay.port) },
      server.url,
      ['--leader-elect', 'redis'],
    );
    const sentBy = (name: string) => (l: Record<string, unknown>) => l.msg === 'task sent' && l.name === name;
    await b.waitForLog('a run sent from the store', sentBy('kept'), 30_000);
    await b.waitForLog('the deleted task’s run from the store', sentBy('deleted'), 10_000);
    assert.ok(
      !b.logs().some((l) => l.msg === 'PeriodicTask cache synced'),
      'sent before the informer synced',
    );
    // Deleted while B cannot see the API server: B dispatches it until the deletion reaches it.
    await cluster.kubectl(['delete', 'pt', 'deleted', '-n', ns.namespace]);
    const keptBefore = await runsOf('kept');
    await waitUntil(
      'B keeps sending while frozen',
      async () => (await runsOf('kept')) >= keptBefore + 2,
      10_000,
    );

    relay.thaw();
    await b.waitForLog('the informer synced', (l) => l.msg === 'PeriodicTask cache synced', 60_000);
    await waitUntil(
      'the deleted task’s key is deleted',
      async () => (await redis.exists(`tasks:meta:${ns.namespace}/deleted`)) === 0,
      30_000,
    );
    const keptAtSync = await runsOf('kept');
    await waitUntil('the other task runs on', async () => (await runsOf('kept')) >= keptAtSync + 3, 15_000);
    const logs = b.logs();
    const synced = logs.findIndex((l) => l.msg === 'PeriodicTask cache synced');
    const lateRuns = logs.slice(synced).filter(sentBy('deleted'));
    assert.deepEqual(lateRuns, [], 'no run of the deleted task after the deletion reached the new leader');
    const firstSent = logs.findIndex(sentBy('kept'));
    assert.ok(firstSent < synced, 'the first due run went out before the informer synced');
  } finally {
    relay.thaw();
    await b?.stop();
    await a.stop().catch(() => undefined);
    await relay.close();
    redis.disconnect();
    await server.stop();
  }
});
