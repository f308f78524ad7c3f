// The operator against a real API server, with exactly the chart's permissions, a real Redis and a real
// Celery worker: kubectl apply → Redis key → worker runs it → status in kubectl get pt.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { type CeleryWorker, startCeleryWorker } from '../support/celery-worker.ts';
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
let ns: OperatorNamespace;
let server: RedisServer;
let redis: Redis;
let worker: CeleryWorker;
let operator: OperatorProcess;
const queue = 'e2e-operator';

async function getTask(name: string): Promise<PeriodicTask> {
  return JSON.parse(
    await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace, '-o', 'json']),
  ) as PeriodicTask;
}

const ready = (task: PeriodicTask) => task.status?.conditions?.find((c) => c.type === 'Ready');

async function apply(name: string, spec: Record<string, unknown>): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTask(ns.namespace, name, spec) });
}

async function messagesOf(name: string): Promise<Array<{ slot: number; id: string }>> {
  return (await redis.lrange(queue, 0, -1))
    .map((raw) => JSON.parse(raw).headers)
    .filter((h) => h.periodic_task_name === `${ns.namespace}/${name}`)
    .map((h) => ({ slot: Date.parse(h.periodic_task_scheduled_at), id: h.id }))
    .sort((a, b) => a.slot - b.slot);
}

describe('the operator on a real API server', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'e2e-operator');
    server = await startRedisServer();
    redis = new Redis(server.url);
    operator = startClusterOperator(ns, server.url);
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
  });

  after(async () => {
    await operator?.stop();
    await worker?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  test('apply: the key appears, a worker runs the task, and the status shows the runs', async () => {
    const workerQueue = 'e2e-worker';
    worker = await startCeleryWorker({ brokerUrl: server.url, queues: [workerQueue] });
    await apply('runs-on-worker', {
      interval: { every: 1, period: 'seconds' },
      args: [2, 3],
      options: { queue: workerQueue },
    });
    const key = `tasks:meta:${ns.namespace}/runs-on-worker`;
    await waitUntil('the Redis key', async () => (await redis.exists(key)) === 1, 15_000);
    const value = JSON.parse((await redis.get(key))!);
    assert.deepEqual(value.interval, { every: 1, period: 'seconds' });
    assert.deepEqual(value.args, [2, 3]);
    assert.equal(value.owner.namespace, ns.namespace);
    const runs = await worker.waitForExecutions(2, 20_000);
    assert.equal(runs[0]!.request.periodic_task_name, `${ns.namespace}/runs-on-worker`);
    await waitUntil(
      'status with runs',
      async () => ((await getTask('runs-on-worker')).status?.totalRunCount ?? 0) >= 2,
      15_000,
    );
    const task = await getTask('runs-on-worker');
    assert.ok(task.status?.lastRunAt, 'lastRunAt is set');
    assert.ok(task.status?.nextRunAt, 'nextRunAt is set');
    assert.equal(task.status?.observedGeneration, task.metadata.generation);
    assert.equal(ready(task)?.status, 'True');
    assert.equal(ready(task)?.reason, 'Scheduled');
    const table = await cluster.kubectl(['get', 'pt', 'runs-on-worker', '-n', ns.namespace]);
    const [header, row] = table.trim().split('\n');
    assert.match(
      header!,
      /TASK\s+SCHEDULE\s+ENABLED\s+READY\s+REASON\s+LAST RUN\s+NEXT RUN\s+RUNS\s+LAST RESULT\s+AGE/,
    );
    assert.match(row!, /\sTrue\s+Scheduled\s/, 'READY and REASON show the Ready condition');
    assert.match(row!, /tasks\.record/);
    assert.equal(task.status?.schedule, 'every 1 second', 'the SCHEDULE column has the schedule in words');
    assert.match(
      row!,
      /\s[1-9]\d*\s+\S+$/,
      'RUNS shows the run count (LAST RESULT is empty without --result-backend)',
    );
  });

  test('a changed interval takes effect on the next slot; disabled stops runs; delete removes the key', async () => {
    await apply('changes', { interval: { every: 1, period: 'seconds' }, options: { queue } });
    await waitUntil('runs every second', async () => (await messagesOf('changes')).length >= 3, 15_000);
    await apply('changes', { interval: { every: 3, period: 'seconds' }, options: { queue } });
    const changedAt = Date.now();
    await waitUntil(
      'runs 3 s apart',
      async () => (await messagesOf('changes')).filter((m) => m.slot > changedAt).length >= 4,
      20_000,
    );
    // The first slot after the edit may still be on the old grid (sent before the watch delivered it).
    const after = (await messagesOf('changes'))
      .filter((m) => m.slot > changedAt)
      .map((m) => m.slot)
      .slice(1);
    for (let i = 1; i < after.length; i += 1) assert.equal(after[i]! - after[i - 1]!, 3000);

    await apply('changes', { interval: { every: 1, period: 'seconds' }, enabled: false, options: { queue } });
    await waitUntil(
      'Ready False/Disabled',
      async () => ready(await getTask('changes'))?.reason === 'Disabled',
      15_000,
    );
    assert.equal(ready(await getTask('changes'))?.status, 'False');
    const count = (await messagesOf('changes')).length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await messagesOf('changes')).length, count, 'no runs while disabled');

    await cluster.kubectl(['delete', 'pt', 'changes', '-n', ns.namespace]);
    const key = `tasks:meta:${ns.namespace}/changes`;
    await waitUntil('the key deleted', async () => (await redis.exists(key)) === 0, 15_000);
  });

  test('an unknown time zone: Ready False/InvalidSpec, a Warning Event, other tasks unaffected', async () => {
    await apply('healthy-neighbour', { interval: { every: 1, period: 'seconds' }, options: { queue } });
    await apply('bad-zone', { cron: '0 7 * * *', timeZone: 'Europe/Atlantis', options: { queue } });
    await waitUntil(
      'InvalidSpec',
      async () => ready(await getTask('bad-zone'))?.reason === 'InvalidSpec',
      15_000,
    );
    const condition = ready(await getTask('bad-zone'))!;
    assert.equal(condition.status, 'False');
    assert.match(condition.message, /timeZone/);
    assert.match(condition.message, /Europe\/Atlantis/);
    await waitUntil(
      'a Warning Event',
      async () => {
        const events = JSON.parse(
          await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns.namespace, '-o', 'json']),
        ) as { items: Array<{ type: string; reason: string; regarding: { name: string }; note?: string }> };
        return events.items.some(
          (e) => e.type === 'Warning' && e.reason === 'InvalidSpec' && e.regarding.name === 'bad-zone',
        );
      },
      15_000,
    );
    const before = (await messagesOf('healthy-neighbour')).length;
    await waitUntil(
      'the neighbour keeps running',
      async () => (await messagesOf('healthy-neighbour')).length >= before + 2,
      10_000,
    );
    assert.equal(await redis.exists(`tasks:meta:${ns.namespace}/bad-zone`), 0, 'an invalid task gets no key');
  });

  test('two operators: one leader; when it is killed the other takes over and no slot runs twice', async () => {
    await apply('failover', { interval: { every: 1, period: 'seconds' }, options: { queue } });
    const standby = startClusterOperator(ns, server.url);
    try {
      await new Promise((r) => setTimeout(r, 4000));
      assert.ok(!standby.logs().some((l) => l.msg === 'became leader'), 'the second operator stands by');
      await waitUntil('failover runs', async () => (await messagesOf('failover')).length >= 2, 10_000);
      await operator.kill();
      const killedAt = Date.now();
      await standby.waitForLog('takeover', (l) => l.msg === 'became leader', 30_000);
      const count = (await messagesOf('failover')).length;
      await waitUntil(
        'the standby dispatches',
        async () => (await messagesOf('failover')).length >= count + 2,
        15_000,
      );
      assert.ok(Date.now() - killedAt < 30_000, 'takeover within the lease duration plus a retry');
    } finally {
      operator = standby;
    }
    const slots = (await messagesOf('failover')).map((m) => m.slot);
    assert.equal(new Set(slots).size, slots.length, 'no slot published twice');
  });
});
