// The beat with spec.endTime, spec.maxRuns and spec.catchUp, against fakes of its interfaces under a simulated
// clock: what runs after a gap, in which order, with which task ids, and when a task stops for good.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import type { BeatOptions } from '../../../src/beat/beat.ts';
import { pythonIsoUtc } from '../../../src/celery/iso-time.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import { isCompleted } from '../../../src/schedule/completion.ts';
import { type BeatRig, beatRig } from '../../support/fakes/beat-rig.ts';
import { definition } from '../../support/fakes/definitions.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock;
let t0: number;

beforeEach(() => {
  clock = simulatedClock();
  t0 = clock.now();
});

afterEach(() => clock.reset());

const rig = (options: Partial<BeatOptions> = {}): BeatRig => beatRig(clock, options);
const MINUTE = 60_000;
const everyMinute = { kind: 'interval', every: 1, period: 'minutes' } as const;

test('catchUp All: after a 10-minute outage every slot within the deadline runs once, oldest first, each with its own id and slot', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  // Down for 10 minutes; the deadline (7.5 min) leaves the slots t0-7m … t0 (8 of them), the 2 before are missed.
  const def = definition('all', { schedule: everyMinute, catchUp: 'All', startingDeadlineSeconds: 450 });
  const key = add(def, t0 - 10 * MINUTE);
  beat.start();
  await clock.advance(100, 1);
  const expected = Array.from({ length: 8 }, (_, i) => t0 - (7 - i) * MINUTE);
  assert.deepEqual(dispatcher.publishedSlots(key), expected, 'every slot in the window, in order');
  const published = dispatcher.published.filter((s) => s.taskKey === key);
  assert.deepEqual(
    published.map((s) => s.publish?.message.headers.id),
    expected.map((slot) => taskIdForSlot(key, def.uid, slot)),
    "each run carries its slot's task id",
  );
  assert.deepEqual(
    published.map((s) => s.publish?.message.headers.periodic_task_scheduled_at),
    expected.map((slot) => pythonIsoUtc(slot)),
  );
  assert.equal(
    dispatcher.calls.filter((c) => c.slots.some((s) => s.taskKey === key)).length,
    8,
    'one dispatch per slot: the cursor moves slot by slot',
  );
  const state = store.stateOf(key);
  assert.equal(state?.totalRunCount, 8);
  assert.equal(state?.missedRunCount, 2);
  assert.equal(state?.cursor, t0);
  assert.equal(listener.log.recorded.at(-1)?.nextRunAt, t0 + MINUTE);
  await clock.advance(MINUTE);
  assert.deepEqual(dispatcher.publishedSlots(key).at(-1), t0 + MINUTE, 'then on schedule again');
  await beat.stop();
});

test('catchUp All without a deadline runs at most --max-backfill slots, the latest ones', async () => {
  const { beat, store, dispatcher, add } = rig({ maxBackfill: 3 });
  const key = add(definition('bounded', { schedule: everyMinute, catchUp: 'All' }), t0 - 10 * MINUTE);
  beat.start();
  await clock.advance(100, 1);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 - 2 * MINUTE, t0 - MINUTE, t0]);
  assert.equal(store.stateOf(key)?.missedRunCount, 7);
  await beat.stop();
});

test('catchUp All: a run stuck behind a failing publish is retried, then the rest follow in order', async () => {
  const { beat, dispatcher, add } = rig();
  const key = add(definition('retried', { schedule: everyMinute, catchUp: 'All' }), t0 - 3 * MINUTE);
  dispatcher.answer(key, { status: 'publish-failed', error: new Error('broker down') });
  beat.start();
  await clock.advance(1000, 10);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 - 2 * MINUTE, t0 - MINUTE, t0]);
  await beat.stop();
});

test('catchUp None: slots found after a gap are missed, not run; a slot reached on time runs', async () => {
  const { beat, store, dispatcher, add } = rig();
  // Down from t0-10m30s: the latest slot (t0-30s) is 30 s late when the beat comes back.
  const key = add(definition('none', { schedule: everyMinute, catchUp: 'None' }), t0 - 10 * MINUTE - 30_000);
  beat.start();
  await clock.advance(100, 1);
  assert.deepEqual(dispatcher.publishedSlots(key), [], 'no catch-up run');
  assert.equal(store.stateOf(key)?.missedRunCount, 10);
  assert.equal(store.stateOf(key)?.cursor, t0 - 30_000);
  await clock.advance(MINUTE);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 30_000], 'the next slot runs on time');
  await beat.stop();
});

test('catchUp None: a slot due just now runs even when older ones are missed', async () => {
  const { beat, store, dispatcher, add } = rig();
  const key = add(definition('none-now', { schedule: everyMinute, catchUp: 'None' }), t0 - 10 * MINUTE);
  beat.start();
  await clock.advance(100, 1);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0]);
  assert.equal(store.stateOf(key)?.missedRunCount, 9);
  await beat.stop();
});

test('endTime: no slot after it runs; the task is completed once the last slot before it is accounted for', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const def = definition('ending', { schedule: everyMinute, endTime: t0 + 3 * MINUTE + 30_000 });
  const key = add(def);
  beat.start();
  await clock.advance(10 * MINUTE, 1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + MINUTE, t0 + 2 * MINUTE, t0 + 3 * MINUTE]);
  const state = store.stateOf(key);
  assert.equal(listener.log.recorded.at(-1)?.nextRunAt, null, 'no next run');
  assert.ok(state && isCompleted(def, state), 'completed');
  assert.equal(beat.nextRunAt(key), null);
  await beat.stop();
});

test('endTime: after a gap past it, the slots before it follow the catch-up rule, none after it', async () => {
  const { beat, store, dispatcher, add } = rig();
  const def = definition('ended', { schedule: everyMinute, catchUp: 'All', endTime: t0 - 5 * MINUTE });
  const key = add(def, t0 - 8 * MINUTE);
  beat.start();
  await clock.advance(100, 1);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 - 7 * MINUTE, t0 - 6 * MINUTE, t0 - 5 * MINUTE]);
  assert.equal(store.stateOf(key)?.cursor, t0 - 5 * MINUTE);
  await clock.advance(5 * MINUTE, 1000);
  assert.equal(dispatcher.publishedSlots(key).length, 3);
  await beat.stop();
});

test('maxRuns: completed after N runs, counted from the stored run state (a new leader carries on from it)', async () => {
  const { beat, store, dispatcher, add } = rig();
  const def = definition('limited', { maxRuns: 5 });
  // Three runs were made under another leader: two are left.
  const key = add(def, t0, { totalRunCount: 3 });
  beat.start();
  await clock.advance(10_000, 100);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 2000]);
  const state = store.stateOf(key);
  assert.equal(state?.totalRunCount, 5);
  assert.ok(state && isCompleted(def, state));
  await beat.stop();
});

test('maxRuns with catchUp All: the catch-up stops at the limit', async () => {
  const { beat, store, dispatcher, add } = rig();
  const key = add(
    definition('limited-all', { schedule: everyMinute, catchUp: 'All', maxRuns: 4 }),
    t0 - 10 * MINUTE,
  );
  beat.start();
  await clock.advance(100, 1);
  assert.deepEqual(dispatcher.publishedSlots(key), [
    t0 - 9 * MINUTE,
    t0 - 8 * MINUTE,
    t0 - 7 * MINUTE,
    t0 - 6 * MINUTE,
  ]);
  await clock.advance(5 * MINUTE, 1000);
  assert.equal(store.stateOf(key)?.totalRunCount, 4);
  await beat.stop();
});
