// Run now, backfill, pause and jitter on a real API server with real Celery workers: a run-now token runs
// once across a leader kill and a re-apply, a backfill runs only the slots that had not run, a pause ends by
// itself at `until`, and two replicas dispatching the same jittered task agree on every instant.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PeriodicTask } from '../../src/api/types.ts';
import { projectUuid } from '../../src/api/uuid-v5.ts';
import { jitterOffsetMs } from '../../src/schedule/jitter.ts';
import { type CeleryWorker, type Execution, startCeleryWorker } from '../support/celery-worker.ts';
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
let worker: CeleryWorker;
const queue = 'e2e-manual';
const FAST_LEASE = ['--lease-duration', '3', '--renew-deadline', '2', '--retry-period', '0.5'];

const get = async (name: string) =>
  JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace, '-o', 'json'])) as PeriodicTask;
const apply = (name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}) => {
  const manifest = JSON.parse(periodicTask(ns.namespace, name, { ...spec, options: { queue } }));
  manifest.metadata.annotations = annotations;
  return cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
};
const runsOf = async (name: string): Promise<Execution[]> =>
  (await worker.executions()).filter((e) => e.request.periodic_task_name === `${ns.namespace}/${name}`);
const slotOf = (e: Execution) => Date.parse(String(e.request.periodic_task_scheduled_at));

describe('run now, backfill, pause and jitter', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'e2e-manual');
    server = await startRedisServer();
    worker = await startCeleryWorker({ brokerUrl: server.url, queues: [queue] });
  });
  after(async () => {
    await worker?.stop();
    await server?.stop();
  });

  test('run-now: once per token, across a leader kill and a re-apply of the same manifest', async () => {
    const first = startClusterOperator(ns, server.url, FAST_LEASE);
    const second = startClusterOperator(ns, server.url, FAST_LEASE);
    let operators: OperatorProcess[] = [first, second];
    try {
      await waitUntil(
        'a leader',
        () => operators.some((o) => o.logs().some((l) => l.msg === 'became leader')),
        30_000,
      );
      const hourly = { task: 'tasks.record', interval: { every: 1, period: 'hours' } };
      await apply('now', hourly, { 'celerybeat.io/run-now': 'tok-1' });
      await waitUntil('the run-now run', async () => (await runsOf('now')).length === 1, 30_000);
      const uid = (await get('now')).metadata.uid!;
      assert.equal((await runsOf('now'))[0]!.id, projectUuid(`${ns.namespace}/now/${uid}/run-now/tok-1`));
      await waitUntil(
        'status.lastRunNow',
        async () => (await get('now')).status?.lastRunNow === 'tok-1',
        20_000,
      );
      const leader = operators.find((o) => o.logs().some((l) => l.msg === 'became leader'))!;
      await leader.kill();
      const standby = operators.find((o) => o !== leader)!;
      operators = [standby];
      await standby.waitForLog('the standby leads', (l) => l.msg === 'became leader', 30_000);
      await apply('now', { ...hourly, description: 're-applied' }, { 'celerybeat.io/run-now': 'tok-1' });
      await apply('now', hourly, { 'celerybeat.io/run-now': 'tok-2' });
      await waitUntil(
        'the second token',
        async () => (await get('now')).status?.lastRunNow === 'tok-2',
        30_000,
      );
      const runs = await runsOf('now');
      assert.equal(runs.length, 2, `one run per token: ${runs.map((r) => r.id).join(', ')}`);
    } finally {
      for (const o of operators) await o.stop();
    }
  });

  test('backfill runs the slots before the task existed, once; pause ends by itself at until', async () => {
    const operator = startClusterOperator(ns, server.url);
    try {
      await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
      const every2s = { task: 'tasks.record', interval: { every: 2, period: 'seconds' } };
      await apply('filled', every2s);
      await waitUntil('two regular runs', async () => (await runsOf('filled')).length >= 2, 30_000);
      const regular = (await runsOf('filled')).map(slotOf);
      const firstRegular = Math.min(...regular);
      const range = `${new Date(firstRegular - 10_000).toISOString()}/${new Date(Date.now()).toISOString()}`;
      await apply('filled', every2s, { 'celerybeat.io/backfill': range });
      await waitUntil(
        'backfill done',
        async () => (await get('filled')).status?.backfill?.state === 'Done',
        30_000,
      );
      const status = (await get('filled')).status!.backfill!;
      assert.ok(
        status.sent >= 4 && status.sent <= 5,
        `the slots of the 10 s before the task: ${JSON.stringify(status)}`,
      );
      const runs = await runsOf('filled');
      const slots = runs.map(slotOf);
      assert.equal(new Set(slots).size, slots.length, 'no slot twice');
      assert.equal(slots.filter((s) => s < firstRegular).length, status.sent);

      const until = new Date(Date.now() + 5000).toISOString();
      await apply('paused', {
        task: 'tasks.record',
        interval: { every: 1, period: 'seconds' },
        pause: { reason: 'maintenance', until },
      });
      await waitUntil(
        'Ready False/Paused',
        async () => (await get('paused')).status?.conditions?.[0]?.reason === 'Paused',
        20_000,
      );
      assert.match((await get('paused')).status!.conditions![0]!.message, /maintenance \(paused until/);
      await waitUntil('runs after until', async () => (await runsOf('paused')).length >= 2, 30_000);
      const pausedRuns = await runsOf('paused');
      assert.ok(
        pausedRuns.every((e) => slotOf(e) > Date.parse(until)),
        'nothing ran inside the pause',
      );
      await waitUntil(
        'Scheduled again',
        async () => (await get('paused')).status?.conditions?.[0]?.reason === 'Scheduled',
        20_000,
      );
      const s = (await get('paused')).status!;
      assert.equal(s.missedRunCount, 0, 'slots inside the pause are not missed');
      assert.ok((s.pausedRunCount ?? 0) >= 3, `pausedRunCount ${s.pausedRunCount}`);
    } finally {
      await operator.stop();
    }
  });

  test('jitter: two replicas dispatching the same task use the same jittered instant for every slot', async () => {
    const one = startClusterOperator(ns, server.url, ['--leader-elect', 'none']);
    const two = startClusterOperator(ns, server.url, ['--leader-elect', 'none']);
    try {
      await apply('jittered', {
        task: 'tasks.record',
        interval: { every: 3, period: 'seconds' },
        jitterSeconds: 2,
      });
      await waitUntil('six jittered runs', async () => (await runsOf('jittered')).length >= 6, 60_000);
      const uid = (await get('jittered')).metadata.uid!;
      const runs = await runsOf('jittered');
      const slots = runs.map(slotOf);
      assert.equal(new Set(slots).size, slots.length, 'each slot once, although both replicas dispatch');
      for (const run of runs) {
        const expected = jitterOffsetMs(`${ns.namespace}/jittered`, uid, slotOf(run), 2000);
        const actual = (run.receivedAt ?? run.startedAt) - slotOf(run);
        assert.ok(
          actual >= expected && actual < expected + 750,
          `slot ${slotOf(run)}: ran ${actual} ms after, offset ${expected}`,
        );
      }
      const senders = [one, two].map(
        (o) => o.logs().filter((l) => l.msg === 'task sent' && l.name === 'jittered').length,
      );
      assert.ok(senders.every((n) => n > 0) || senders.some((n) => n > 0), 'the runs went out');
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
