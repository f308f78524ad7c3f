// spec.pauseAfterFailures in the beat, against fakes of its interfaces under a simulated clock: the count of
// FAILURE results in a row is recorded in the run state, the task stops running once it reaches the limit (its
// slots counted as paused), a new beat on the same store keeps the pause, and a resume lifts it.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import type { FinishedRun, RunState } from '../../../src/contracts.ts';
import { readyOf } from '../../../src/controller/task-status.ts';
import { type BeatRig, beatRig } from '../../support/fakes/beat-rig.ts';
import { beatTask, definition } from '../../support/fakes/definitions.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock;

beforeEach(() => {
  clock = simulatedClock();
});

afterEach(() => clock.reset());

const MINUTE = 60_000;
const everyMinute = { kind: 'interval', every: 1, period: 'minutes' } as const;

/** The newest run the rig published for the task, finished with `state`. */
function lastRun(rig: BeatRig, key: string, state: 'SUCCESS' | 'FAILURE'): FinishedRun {
  const slot = rig.dispatcher.published.filter((s) => s.taskKey === key).at(-1);
  assert.ok(slot?.publish, `${key} has sent a run`);
  return {
    taskId: String(slot.publish.message.headers.id),
    slot: slot.next.lastTaskSlot as number,
    state,
    error: state === 'FAILURE' ? 'RuntimeError: disk full' : null,
  };
}

/** Runs one slot, then tells the beat its result. */
async function runAndFinish(rig: BeatRig, key: string, state: 'SUCCESS' | 'FAILURE'): Promise<FinishedRun> {
  const before = rig.dispatcher.publishedSlots(key).length;
  await clock.advanceUntil(
    'the next run',
    () => rig.dispatcher.publishedSlots(key).length > before,
    2 * MINUTE,
  );
  const run = lastRun(rig, key, state);
  rig.beat.finished(key, run);
  await clock.advance(50);
  return run;
}

function stateOf(rig: BeatRig, key: string): RunState {
  const state = rig.store.stateOf(key);
  assert.ok(state, `${key} has a run state`);
  return state;
}

test('after N failures in a row the task is paused: no runs, its slots counted as paused, Ready False/Paused naming them', async () => {
  const rig = beatRig(clock);
  const def = definition('fails', { schedule: everyMinute, pauseAfterFailures: 3 });
  const key = rig.add(def);
  rig.beat.start();
  await runAndFinish(rig, key, 'FAILURE');
  await runAndFinish(rig, key, 'FAILURE');
  assert.equal(stateOf(rig, key).failures?.count, 2, 'each failure is recorded in the run state');
  assert.equal(readyOf(def, stateOf(rig, key), undefined, clock.now()).status, 'True', 'not paused below N');
  assert.deepEqual(rig.listener.log.pausedByFailures, [], 'no pause told below N');
  const third = await runAndFinish(rig, key, 'FAILURE');
  assert.deepEqual(
    rig.listener.log.pausedByFailures,
    [{ key, count: 3 }],
    'the pause is told once it is recorded (a Warning Event)',
  );
  const paused = stateOf(rig, key);
  assert.deepEqual(paused.failures, {
    count: 3,
    slot: third.slot,
    taskId: third.taskId,
    exception: 'RuntimeError',
  });
  assert.equal(rig.beat.nextRunAt(key), null, 'no next run while paused');
  assert.equal(rig.listener.log.recorded.at(-1)?.nextRunAt, null, 'the status is told there is none');
  const ready = readyOf(def, paused, undefined, clock.now());
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'Paused');
  assert.match(ready.message, /3 failed runs in a row/);
  assert.ok(ready.message.includes(third.taskId), 'the message names the last failed run');
  assert.match(ready.message, /\(RuntimeError\)/);

  const runs = rig.dispatcher.publishedSlots(key).length;
  await clock.advance(10 * MINUTE, 1000);
  assert.equal(rig.dispatcher.publishedSlots(key).length, runs, 'no run while paused');
  // A result that comes late (a run still going when the pause began) does not lift it.
  rig.beat.finished(key, { ...third, slot: third.slot + 1, taskId: 'late', state: 'SUCCESS' });
  await clock.advance(1000);
  assert.equal(rig.listener.log.pausedByFailures.length, 1, 'told once, not at each paused slot');
  assert.equal(stateOf(rig, key).failures?.count, 3, 'the pause holds until a resume');
  assert.equal(rig.dispatcher.publishedSlots(key).length, runs);
  await rig.beat.stop();
});

test('a SUCCESS starts the count over; a result counted before, or of an older run, is not counted again', async () => {
  const rig = beatRig(clock);
  const key = rig.add(definition('flaky', { schedule: everyMinute, pauseAfterFailures: 2 }));
  rig.beat.start();
  const first = await runAndFinish(rig, key, 'FAILURE');
  rig.beat.finished(key, first); // told again (a new leader reads the saved history)
  await clock.advance(50);
  assert.equal(stateOf(rig, key).failures?.count, 1);
  const success = await runAndFinish(rig, key, 'SUCCESS');
  assert.deepEqual(
    stateOf(rig, key).failures,
    { count: 0, slot: success.slot, taskId: success.taskId },
    'a success starts the count over and is the mark',
  );
  rig.beat.finished(key, first); // an older run's failure, told again (or late)
  await clock.advance(50);
  assert.equal(stateOf(rig, key).failures?.count, 0, 'older than the newest run counted: not counted');
  await runAndFinish(rig, key, 'SUCCESS');
  await runAndFinish(rig, key, 'FAILURE');
  assert.equal(stateOf(rig, key).failures?.count, 1, 'a success between two failures: not in a row');
  assert.notEqual(rig.beat.nextRunAt(key), null, 'still scheduled');
  await rig.beat.stop();
});

test('a beat that takes over from the same store keeps the pause; a resume lifts it, counting the slots of the pause as paused', async () => {
  const first = beatRig(clock);
  const def = definition('handover', { schedule: everyMinute, pauseAfterFailures: 2 });
  const key = first.add(def);
  first.beat.start();
  await runAndFinish(first, key, 'FAILURE');
  const lastFailure = await runAndFinish(first, key, 'FAILURE');
  await first.beat.stop();
  const stored = stateOf(first, key);
  assert.equal(stored.failures?.count, 2);

  // The new leader reads the run state from the store; the saved history tells it the failures again.
  const next = beatRig(clock);
  next.add(def, stored.cursor, stored);
  next.beat.start();
  next.beat.finished(key, lastFailure);
  await clock.advance(5 * MINUTE, 1000);
  assert.deepEqual(next.dispatcher.publishedSlots(key), [], 'still paused after the takeover');
  assert.equal(stateOf(next, key).failures?.count, 2, 'a failure told again is not counted twice');

  // kubectl celerybeat resume: the resumed-at annotation reaches the beat with the definition.
  const resumedAt = clock.now();
  const resumed: TaskDefinition = { ...def, resumedAt };
  next.beat.set(key, beatTask(resumed, stateOf(next, key)));
  await clock.advance(100, 10);
  const afterResume = stateOf(next, key);
  assert.equal(afterResume.failures, undefined, 'the count starts over, with the resume as the mark');
  assert.equal(afterResume.resumedAt, resumedAt, 'the resume is recorded, so it applies once');
  assert.equal(afterResume.pausedRunCount, 5, 'the slots inside the pause are paused ones, not missed');
  assert.equal(afterResume.missedRunCount, 0);
  assert.equal(readyOf(resumed, afterResume, undefined, clock.now()).status, 'True');
  await clock.advanceUntil(
    'a run after the resume',
    () => next.dispatcher.publishedSlots(key).length > 0,
    2 * MINUTE,
  );
  // A failure of a run from before the resume is forgiven.
  next.beat.finished(key, { ...lastFailure, taskId: 'old', slot: resumedAt - 1 });
  await clock.advance(50);
  assert.equal(stateOf(next, key).failures, undefined);
  // The same definition set again (a resync) does not resume twice.
  await runAndFinish(next, key, 'FAILURE');
  next.beat.set(key, beatTask(resumed, stateOf(next, key)), false);
  await clock.advance(50);
  assert.equal(stateOf(next, key).failures?.count, 1);
  await next.beat.stop();
});

test('without pauseAfterFailures results are not recorded at all', async () => {
  const rig = beatRig(clock);
  const key = rig.add(definition('plain', { schedule: everyMinute }));
  rig.beat.start();
  for (let i = 0; i < 3; i += 1) await runAndFinish(rig, key, 'FAILURE');
  assert.equal(stateOf(rig, key).failures, undefined);
  assert.equal(rig.dispatcher.publishedSlots(key).length, 3);
  await rig.beat.stop();
});
