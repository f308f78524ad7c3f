// Several schedules and an exclusion on a real Redis, a real operator process (standalone mode) and a real Celery
// worker: a task on a 20-second grid (through the epoch), a per-minute cron and one clocked time runs at the slots
// of all three, an instant the grid and the cron share once (one task id), and no slot of the excluded minute.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pythonIsoUtc } from '../../../src/celery/iso-time.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
const QUEUE = 'schedule-set';
const KEY = 'tasks:meta:default/schedule-set';
const MINUTE = 60_000;

test('a task with several schedules runs at each of them, a shared instant once, and not in its excluded minute', {
  timeout: 300_000,
}, async () => {
  // Minute A (at least 45 s away, past the worker's and the operator's start) holds the clocked time A:07; minute B = A + 1 is excluded; the run ends at B + 1.
  const a = Math.ceil((Date.now() + 45_000) / MINUTE) * MINUTE;
  const b = a + MINUTE;
  const end = b + MINUTE;
  const clocked = a + 7_000;
  const dir = await bed.manifests();
  await dir.write('schedule-set.yaml', {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'schedule-set', namespace: 'default' },
    spec: {
      task: 'tasks.record',
      schedules: [
        { interval: { every: 20, period: 'seconds' } },
        { cron: '* * * * *' },
        { clocked: new Date(clocked).toISOString() },
      ],
      exclude: [{ minute: String(new Date(b).getUTCMinutes()), hour: String(new Date(b).getUTCHours()) }],
      options: { queue: QUEUE },
    },
  });
  const worker = await startCeleryWorker({ brokerUrl: bed.server.url, queues: [QUEUE] });
  const operator = bed.operator(dir);
  try {
    await operator.waitForLog(
      'the task',
      (l) => l.msg === 'task reconciled' && l.name === 'schedule-set',
      60_000,
    );
    // Every slot of A and the first of B + 1: the grid's three, the clocked time (A:00 is the grid's and the cron's).
    const expected = [a, clocked, a + 20_000, a + 40_000, end];
    await worker.waitForExecutions(
      (executions) => executions.some((e) => Date.parse(String(e.request.periodic_task_scheduled_at)) >= end),
      end - Date.now() + 30_000,
    );
    const value = JSON.parse((await bed.redis.get(KEY)) as string);
    const uid = value.owner.uid as string;
    const runs = (await worker.executions())
      .map((e) => ({ at: Date.parse(String(e.request.periodic_task_scheduled_at)), id: e.id }))
      .filter((r) => r.at >= a && r.at <= end)
      .sort((x, y) => x.at - y.at);
    assert.deepEqual(
      runs.map((r) => pythonIsoUtc(r.at)),
      expected.map(pythonIsoUtc),
      'the merged slots of A, none of the excluded minute B, then B + 1',
    );
    assert.deepEqual(
      runs.map((r) => r.id),
      expected.map((slot) => taskIdForSlot('default/schedule-set', uid, slot)),
      'one run and one task id per instant',
    );
    assert.equal(value.missed_run_count, 0, 'the excluded slots are not missed');
    assert.deepEqual(
      value.schedules.map((s: Record<string, unknown>) => Object.keys(s)[0]),
      ['interval', 'cron', 'clocked'],
    );
    assert.deepEqual(
      value.interval,
      { every: 20, period: 'seconds' },
      "the first schedule's documented shape",
    );
  } finally {
    await operator.stop();
    await worker.stop();
  }
});
