// What the operator shows on a real API server is true when it is read, with exactly the chart's permissions:
// nextRunAt goes away when there is no next run (disabled, a one-off or clocked task that ran, an invalid
// spec), `kubectl get pt` shows READY and REASON, every run is logged at info, the schedules gauge follows a
// run at once, and a crontab whose day fields a CronJob reads differently gets a Normal Event and a note.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PeriodicTask } from '../../src/api/types.ts';
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
let operator: OperatorProcess;
const queue = 'e2e-status-truth';

async function getTask(name: string, namespace = ns.namespace): Promise<PeriodicTask> {
  return JSON.parse(
    await cluster.kubectl(['get', 'pt', name, '-n', namespace, '-o', 'json']),
  ) as PeriodicTask;
}

const ready = (task: PeriodicTask) => task.status?.conditions?.find((c) => c.type === 'Ready');

async function apply(name: string, spec: Record<string, unknown>, namespace = ns.namespace): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], {
    input: periodicTask(namespace, name, { options: { queue }, ...spec }),
  });
}

async function waitForReason(name: string, reason: string, namespace = ns.namespace): Promise<PeriodicTask> {
  let task: PeriodicTask | undefined;
  await waitUntil(
    `${name}: Ready reason ${reason}`,
    async () => {
      task = await getTask(name, namespace);
      return ready(task)?.reason === reason && task.status?.observedGeneration === task.metadata.generation;
    },
    20_000,
  );
  return task!;
}

/** `kubectl get pt NAME` as column → cell, cut at the header's column starts (cells may be empty). */
async function tableRow(name: string): Promise<Record<string, string>> {
  const [header, row] = (await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace]))
    .trimEnd()
    .split('\n');
  const starts = [...header!.matchAll(/\S+(?: RUN| RESULT)?/g)].map((m) => ({ name: m[0], at: m.index }));
  return Object.fromEntries(
    starts.map((column, i) => [column.name, row!.slice(column.at, starts[i + 1]?.at).trim()]),
  );
}

interface EventItem {
  type: string;
  reason: string;
  note?: string;
  regarding: { name: string };
}

async function eventsOf(name: string, namespace = ns.namespace): Promise<EventItem[]> {
  const list = JSON.parse(
    await cluster.kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json']),
  ) as { items: EventItem[] };
  return list.items.filter((e) => e.regarding.name === name);
}

describe('status tells the truth on a real API server', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'e2e-status');
    server = await startRedisServer();
    operator = startClusterOperator(ns, server.url);
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
  });

  after(async () => {
    await operator?.stop();
    await server?.stop();
  });

  test('enabled: false removes nextRunAt from the resource', async () => {
    await apply('toggle', { interval: { every: 1, period: 'seconds' } });
    await waitUntil(
      'runs and a next run',
      async () => {
        const task = await getTask('toggle');
        return (task.status?.totalRunCount ?? 0) >= 1 && task.status?.nextRunAt !== undefined;
      },
      20_000,
    );
    await apply('toggle', { interval: { every: 1, period: 'seconds' }, enabled: false });
    const task = await waitForReason('toggle', 'Disabled');
    assert.equal(task.status?.nextRunAt, undefined, 'a disabled task has no next run');
    assert.ok((task.status?.totalRunCount ?? 0) >= 1, 'the run count stays');
    const row = await tableRow('toggle');
    assert.equal(row['NEXT RUN'], '');
    assert.equal(row.READY, 'False');
    assert.equal(row.REASON, 'Disabled');
  });

  test('a one-off and a clocked task that ran: Completed, and no nextRunAt left behind', async () => {
    await apply('one-off', { interval: { every: 1, period: 'seconds' }, oneOff: true });
    await apply('clocked', { clocked: new Date(Date.now() + 2000).toISOString() });
    for (const name of ['one-off', 'clocked']) {
      const task = await waitForReason(name, 'Completed');
      assert.equal(task.status?.totalRunCount, 1, name);
      assert.equal(task.status?.nextRunAt, undefined, `${name}: no next run`);
      const row = await tableRow(name);
      assert.deepEqual([row.READY, row.REASON, row['NEXT RUN'], row.RUNS], ['False', 'Completed', '', '1']);
    }
  });

  test('an invalid spec: READY False, REASON InvalidSpec, SCHEDULE "invalid", no NEXT RUN', async () => {
    await apply('breaks', { cron: '0 7 * * *' });
    await waitUntil(
      'a next run',
      async () => (await getTask('breaks')).status?.nextRunAt !== undefined,
      20_000,
    );
    // An unknown zone passes the API server's schema: only the operator can tell.
    await apply('breaks', { cron: '0 7 * * *', timeZone: 'Europe/Atlantis' });
    const task = await waitForReason('breaks', 'InvalidSpec');
    assert.equal(task.status?.nextRunAt, undefined);
    assert.equal(task.status?.schedule, 'invalid');
    const table = await cluster.kubectl(['get', 'pt', 'breaks', '-n', ns.namespace]);
    assert.match(
      table.split('\n')[0]!,
      /^NAME\s+TASK\s+SCHEDULE\s+ENABLED\s+READY\s+REASON\s+LAST RUN\s+NEXT RUN\s+RUNS\s+LAST RESULT\s+AGE$/,
    );
    const row = await tableRow('breaks');
    assert.deepEqual(
      [row.SCHEDULE, row.ENABLED, row.READY, row.REASON, row['NEXT RUN']],
      ['invalid', 'true', 'False', 'InvalidSpec', ''],
      table,
    );
  });

  test('every run is logged at info level as "task sent", once per run', async () => {
    await waitUntil(
      'the one-off run logged',
      () => operator.logs().some((l) => l.msg === 'task sent' && l.name === 'one-off'),
      20_000,
    );
    const sent = operator.logs().filter((l) => l.msg === 'task sent' && l.name === 'one-off');
    assert.equal(sent.length, 1, 'a one-off runs once and is logged once');
    const [line] = sent;
    assert.equal(line!.level, 'info');
    assert.equal(line!.namespace, ns.namespace);
    assert.equal(line!.totalRunCount, 1);
    assert.equal(typeof line!.lastTaskId, 'string');
    assert.equal(typeof line!.lastRunAt, 'string');
    assert.equal(line!.nextRunAt, null);
  });

  test('both day fields restricted: one Normal Event and the note with the next runs in Ready', async () => {
    const crontab = { minute: '0', hour: '0', dayOfMonth: '1', dayOfWeek: 'mon' };
    await apply('both-days', { crontab });
    const task = await waitForReason('both-days', 'Scheduled');
    const message = ready(task)!.message;
    assert.match(message, /dayOfMonth "1" and dayOfWeek "mon" must both match/);
    assert.match(message, /; next runs: (\d{4}-\d\d-01T00:00:00Z(, )?){3}$/);
    for (const run of message.split('next runs: ')[1]!.split(', ')) {
      assert.equal(new Date(run).getUTCDay(), 1, `${run} is a Monday the 1st`);
    }
    await waitUntil(
      'a Normal Event',
      async () => (await eventsOf('both-days')).some((e) => e.type === 'Normal'),
      15_000,
    );
    // Another pass over the same note (a changed description) tells nothing new.
    await apply('both-days', { crontab, description: 'edited' });
    await waitUntil(
      'the edit reconciled',
      async () => {
        const t = await getTask('both-days');
        return t.status?.observedGeneration === t.metadata.generation && t.metadata.generation === 2;
      },
      15_000,
    );
    const normal = (await eventsOf('both-days')).filter((e) => e.type === 'Normal');
    assert.equal(normal.length, 1, JSON.stringify(normal));
    assert.equal(normal[0]!.reason, 'DayFieldsBothMatch');
    assert.match(normal[0]!.note ?? '', /must both match.*next runs: /);
    const described = await cluster.kubectl(['get', 'events', '-n', ns.namespace]);
    assert.match(described, /Normal\s+DayFieldsBothMatch\s+periodictask\/both-days/);
  });

  test('celerybeat_schedules follows a run at scrape time, before any status write or new pass', async () => {
    // A status rate so low that the write after the run waits seconds: nothing but the run changes the state.
    const slow = await operatorNamespace(cluster, 'e2e-gauge');
    const gaugeOperator = startClusterOperator(slow, server.url, [
      '--kube-api-qps',
      '0.1',
      '--kube-api-burst',
      '1',
    ]);
    try {
      await gaugeOperator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
      const gauge = async (): Promise<Record<string, number>> => {
        const text = await gaugeOperator.metrics();
        return Object.fromEntries(
          [...text.matchAll(/^celerybeat_schedules\{state="(\w+)"\} (\d+)$/gm)].map((m) => [
            m[1],
            Number(m[2]),
          ]),
        );
      };
      await apply('gauge-once', { interval: { every: 2, period: 'seconds' }, oneOff: true }, slow.namespace);
      await gaugeOperator.waitForLog('reconciled', (l) => l.msg === 'task reconciled', 15_000);
      assert.deepEqual(await gauge(), { scheduled: 1, disabled: 0, completed: 0, invalid: 0 });
      await gaugeOperator.waitForLog('the run', (l) => l.msg === 'task sent', 15_000);
      assert.deepEqual(await gauge(), { scheduled: 0, disabled: 0, completed: 1, invalid: 0 });
      const task = await getTask('gauge-once', slow.namespace);
      assert.notEqual(ready(task)?.reason, 'Completed', 'the status write is still waiting for its turn');
      await waitForReason('gauge-once', 'Completed', slow.namespace);
    } finally {
      await gaugeOperator.stop();
    }
  });
});
