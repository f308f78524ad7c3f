// catchUp All after a ten-minute outage, on a real Redis and a real Celery worker: the operator runs once (the
// key is written), stops, and the key's run state is set back as if it had been down for ten minutes and a half;
// started again, it runs every slot within startingDeadlineSeconds once, oldest first, each with its own task id
// and periodic_task_scheduled_at, and counts the older ones as missed. No waiting out the outage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pythonIsoUtc } from '../../../src/celery/iso-time.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import { decodeDatetime, encodeDatetime } from '../../../src/store/datetime.ts';
import { decodeTaskValue } from '../../../src/store/task-record.ts';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { intervalTask } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
const QUEUE = 'catch-up-all';
const KEY = 'tasks:meta:default/catch-up';
const MINUTE = 60_000;

test('catchUp All: after a ten-minute outage every slot within the deadline runs once, in order, on a worker', {
  timeout: 180_000,
}, async () => {
  const dir = await bed.manifests();
  // Slots a minute apart; the deadline keeps the 7 latest of the 10 slots in the outage (any restart within 30 s).
  await dir.write(
    'catch-up.yaml',
    intervalTask('catch-up', 60, { catchUp: 'All', startingDeadlineSeconds: 420, options: { queue: QUEUE } }),
  );
  const worker = await startCeleryWorker({ brokerUrl: bed.server.url, queues: [QUEUE] });
  let operator = bed.operator(dir);
  try {
    await operator.waitForLog(
      'the task',
      (l) => l.msg === 'task reconciled' && l.name === 'catch-up',
      60_000,
    );
    assert.equal(await operator.stop(), 0);

    // The outage: the stored cursor ten and a half minutes back, so ten slots came due while it was down.
    const stopped = Date.now();
    const cursor = stopped - 10 * MINUTE - 30_000;
    const value = JSON.parse((await bed.redis.get(KEY)) as string);
    assert.equal(value.total_run_count, 0, 'no run before the outage');
    value.last_run_at = encodeDatetime(cursor);
    const raw = JSON.stringify(value);
    assert.equal(decodeTaskValue(raw).runState?.cursor, cursor, 'the run state reads back as set');
    await bed.redis.set(KEY, raw);
    const uid = value.owner.uid as string;
    const slots = Array.from({ length: 7 }, (_, i) => cursor + (4 + i) * MINUTE);

    operator = bed.operator(dir);
    const runs = (await worker.waitForExecutions(7, 60_000)).filter(
      (e) => Date.parse(String(e.request.periodic_task_scheduled_at)) <= stopped,
    );
    assert.deepEqual(
      runs.map((e) => e.request.periodic_task_scheduled_at),
      slots.map(pythonIsoUtc),
      'every slot within the deadline, oldest first (the solo worker runs them in the order sent)',
    );
    assert.deepEqual(
      runs.map((e) => e.id),
      slots.map((slot) => taskIdForSlot('default/catch-up', uid, slot)),
      'each with the task id of its slot',
    );
    let stored = value;
    await waitUntil(
      'the catch-up recorded',
      async () => {
        stored = JSON.parse((await bed.redis.get(KEY)) as string);
        return decodeDatetime(stored.last_run_at) >= slots.at(-1)!;
      },
      30_000,
    );
    assert.equal(stored.missed_run_count, 3, 'the three slots past the deadline are missed');
    assert.ok(stored.total_run_count >= 7);
    const again = (await worker.executions()).filter(
      (e) => Date.parse(String(e.request.periodic_task_scheduled_at)) <= stopped,
    );
    assert.equal(again.length, 7, 'no slot of the outage ran twice');
  } finally {
    await operator.stop();
    await worker.stop();
  }
});
