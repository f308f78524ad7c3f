// --redis-schedules in cluster mode: hand-written celerybeat-redis keys run next to PeriodicTasks from the
// real API server; their status goes to the log (there is no resource), and nothing is written to the API
// server for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

test('hand-written keys and PeriodicTasks run side by side on a real API server', {
  timeout: 180_000,
}, async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-hand-written');
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const operator = startClusterOperator(ns, server.url, ['--redis-schedules']);
  const queue = 'e2e-hand-written';
  const sent = async (name: string) =>
    (await redis.lrange(queue, 0, -1))
      .map((raw) => JSON.parse(raw).headers as Record<string, string>)
      .filter((h) => h.periodic_task_name === name);
  try {
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    await redis.set(
      'tasks:meta:legacy-report',
      JSON.stringify({
        name: 'legacy-report',
        task: 'tasks.record',
        interval: { every: 1, period: 'seconds' },
        args: [],
        kwargs: {},
        queue,
      }),
    );
    await cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(ns.namespace, 'declared', {
        interval: { every: 1, period: 'seconds' },
        options: { queue },
      }),
    });
    await waitUntil(
      'both run',
      async () =>
        (await sent('legacy-report')).length >= 3 && (await sent(`${ns.namespace}/declared`)).length >= 3,
      30_000,
    );
    const ids = (await sent('legacy-report')).map((h) => h.id);
    assert.equal(new Set(ids).size, ids.length, 'one task id per slot');
    await waitUntil(
      'the PeriodicTask status fills in',
      async () => {
        const task = JSON.parse(
          await cluster.kubectl(['get', 'pt', 'declared', '-n', ns.namespace, '-o', 'json']),
        ) as PeriodicTask;
        return (task.status?.totalRunCount ?? 0) >= 3;
      },
      20_000,
    );
    const stored = JSON.parse((await redis.get('tasks:meta:legacy-report'))!) as Record<string, unknown>;
    assert.ok((stored.total_run_count as number) >= 3, 'the run count is kept in the hand-written key');
    assert.equal(stored.owner, undefined, "the key stays the user's");
    const logs = operator.logs();
    assert.ok(
      logs.some((l) => l.msg === 'task status' && l.name === 'legacy-report'),
      'its status is logged',
    );
    assert.ok(
      !logs.some((l) => (l.level as number) >= 50),
      `no error was logged: ${JSON.stringify(logs.filter((l) => (l.level as number) >= 50))}`,
    );
  } finally {
    await operator.stop();
    redis.disconnect();
    await server.stop();
  }
});
