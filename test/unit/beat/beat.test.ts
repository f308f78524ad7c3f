// Beat against fakes of its interfaces, under a simulated clock: what it dispatches, when, and what it does
// with every outcome a dispatcher can give.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import type { BeatOptions } from '../../../src/beat/beat.ts';
import { ABANDONED_CLAIM_MS } from '../../../src/beat/slot-dispatcher.ts';
import { type BeatRig, beatRig } from '../../support/fakes/beat-rig.ts';
import { beatTask, definition, recordingListener, runState } from '../../support/fakes/definitions.ts';
import type { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';
import { type SimulatedClock, settle, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock;
let t0: number;

beforeEach(() => {
  clock = simulatedClock();
  t0 = clock.now();
});

afterEach(() => clock.reset());

const rig = (options: Partial<BeatOptions> = {}): BeatRig => beatRig(clock, options);

/** Fails when a (task, slot) was published twice or a task's slots do not strictly increase. */
function assertEachSlotOnce(dispatcher: ScriptedDispatcher): void {
  const byTask = new Map<string, number[]>();
  for (const slot of dispatcher.published) {
    const slots = byTask.get(slot.taskKey) ?? [];
    slots.push(slot.next.lastTaskSlot ?? Number.NaN);
    byTask.set(slot.taskKey, slots);
  }
  for (const [key, slots] of byTask) {
    for (let i = 1; i < slots.length; i += 1) {
      assert.ok(slots[i]! > slots[i - 1]!, `${key}: slot ${slots[i]} published after ${slots[i - 1]}`);
    }
  }
}

test('wakes up for each task at its slots, earliest first, and never early', async () => {
  const { beat, dispatcher, add } = rig();
  const a = add(definition('a'));
  const c = add(definition('c', { schedule: { kind: 'interval', every: 3, period: 'seconds' } }));
  beat.start();
  await clock.advance(999);
  assert.equal(dispatcher.calls.length, 0, 'nothing is due before the first slot');
  await clock.advance(1);
  assert.deepEqual(dispatcher.publishedSlots(a), [t0 + 1000]);
  await clock.advance(2000);
  assert.deepEqual(dispatcher.publishedSlots(a), [t0 + 1000, t0 + 2000, t0 + 3000]);
  assert.deepEqual(dispatcher.publishedSlots(c), [t0 + 3000]);
  for (const call of dispatcher.calls) {
    for (const slot of call.slots) assert.equal(call.at, slot.next.lastTaskSlot, 'dispatched at its slot');
  }
  await beat.stop();
});

test('each slot is published once, and the store and the beat agree on the run state', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const keys = [
    add(definition('one')),
    add(definition('fraction', { schedule: { kind: 'interval', every: 1500, period: 'microseconds' } })),
    add(definition('seven', { schedule: { kind: 'interval', every: 7, period: 'seconds' } })),
  ];
  beat.start();
  await clock.advance(60_000, 50);
  await beat.stop();
  assertEachSlotOnce(dispatcher);
  const ids = dispatcher.published.map((s) => s.publish?.message.headers.id);
  assert.equal(new Set(ids).size, ids.length, 'every published message has its own task id');
  assert.equal(dispatcher.publishedSlots(keys[0]!).length, 60);
  assert.equal(dispatcher.publishedSlots(keys[2]!).length, 8);
  for (const key of keys) {
    const stored = store.stateOf(key);
    assert.deepEqual(beat.get(key)?.state, stored);
    assert.equal(stored?.totalRunCount, dispatcher.publishedSlots(key).length);
  }
  assert.equal(listener.log.recorded.length, dispatcher.published.length);
  assert.equal(listener.log.rejected.length, 0);
});

test('due slots are dispatched in batches of batchSize, with at most two batches in flight', async () => {
  const { beat, dispatcher, add } = rig({ batchSize: 10 });
  const keys = Array.from({ length: 25 }, (_, i) => add(definition(`t${i}`)));
  dispatcher.hold();
  beat.start();
  await clock.advance(1000);
  await clock.advance(100);
  assert.deepEqual(
    dispatcher.calls.map((c) => c.slots.length),
    [10, 10],
    'two full batches, the third waits for one of them',
  );
  assert.equal(dispatcher.maxInFlight, 2);
  dispatcher.release();
  await clock.advance(10);
  assert.deepEqual(
    dispatcher.calls.map((c) => c.slots.length),
    [10, 10, 5],
  );
  const dispatched = dispatcher.calls.flatMap((c) => c.slots.map((s) => s.taskKey));
  assert.deepEqual(dispatched.toSorted(), keys.toSorted(), 'every task once');
  assert.equal(dispatcher.maxInFlight, 2);
  await beat.stop();
});

test('a failed publish is retried after the initial retry delay with the same slot and task id, and recorded once', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const key = add(definition('flaky'));
  dispatcher.answer(key, { status: 'publish-failed', error: new Error('broker down') });
  beat.start();
  await clock.advance(1000);
  assert.equal(dispatcher.calls.length, 1);
  assert.equal(dispatcher.published.length, 0);
  assert.equal(store.stateOf(key)?.totalRunCount, 0, 'a failed publish is not recorded');
  assert.equal(listener.log.recorded.length, 0);
  await clock.advance(190);
  assert.equal(dispatcher.calls.length, 1, 'not retried before the initial retry delay');
  await clock.advance(10);
  assert.equal(dispatcher.calls.length, 2, 'retried after the initial retry delay');
  const [first, retry] = dispatcher.calls.map((c) => c.slots[0]!);
  assert.equal(retry?.next.lastTaskSlot, t0 + 1000, 'the retry is for the same slot');
  assert.equal(retry?.publish?.message.headers.id, first?.publish?.message.headers.id);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000]);
  assert.equal(store.stateOf(key)?.totalRunCount, 1);
  await clock.advance(800);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 2000], 'then back on its schedule');
  await beat.stop();
});

test('a task that keeps failing is retried later each time, alone; a recorded slot starts it over', async () => {
  const { beat, dispatcher, add } = rig();
  const failed = { status: 'publish-failed', error: new Error('broker down') } as const;
  const key = add(definition('flaky', { schedule: { kind: 'interval', every: 60, period: 'seconds' } }));
  const steady = add(definition('steady'));
  dispatcher.answer(key, failed, failed, failed, failed, failed);
  beat.start();
  const attempts = (): number[] =>
    dispatcher.calls.filter((c) => c.slots.some((s) => s.taskKey === key)).map((c) => c.at - t0);
  await clock.advance(60_000 + 200 + 400 + 800 + 1600 + 1600 + 10, 10);
  assert.deepEqual(
    attempts(),
    [60_000, 60_200, 60_600, 61_400, 63_000, 64_600],
    '200 ms, 400 ms, 800 ms, then capped at 1.6 s',
  );
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 60_000], 'sent by the sixth attempt');
  assert.ok(dispatcher.publishedSlots(steady).length >= 60, 'the other task keeps its schedule meanwhile');
  dispatcher.answer(key, failed);
  await clock.advance(60_000, 10);
  assert.deepEqual(attempts().slice(6), [120_000, 120_200], 'after a recorded slot, the first delay again');
  await beat.stop();
});

test('a dispatcher that throws loses no slot: the whole batch is retried', async () => {
  const { beat, dispatcher, add } = rig();
  const a = add(definition('a'));
  const b = add(definition('b'));
  dispatcher.throwNext(new Error('connection reset'));
  beat.start();
  await clock.advance(1000);
  assert.equal(dispatcher.published.length, 0);
  await clock.advance(200);
  assert.deepEqual(dispatcher.publishedSlots(a), [t0 + 1000]);
  assert.deepEqual(dispatcher.publishedSlots(b), [t0 + 1000]);
  await beat.stop();
});

test('a conflict adopts the stored run state and never publishes that slot', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const key = add(definition('raced'));
  // Another instance recorded the first slot before this one got to it.
  const theirs = runState(t0 + 1000, { totalRunCount: 1, lastTaskId: 'theirs', lastTaskSlot: t0 + 1000 });
  store.put(key, 'uid-raced', theirs);
  beat.start();
  await clock.advance(1000);
  assert.equal(dispatcher.calls.length, 1);
  assert.equal(dispatcher.published.length, 0, 'the slot the other instance recorded is not published');
  assert.deepEqual(beat.get(key)?.state, theirs);
  assert.equal(listener.log.recorded.length, 0);
  assert.equal(beat.nextRunAt(key), t0 + 2000);
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 2000]);
  assert.equal(store.stateOf(key)?.totalRunCount, 2, 'counted on from the adopted state');
  await beat.stop();
});

test('a fenced dispatch tells the listener, publishes nothing, and is retried once the lock is ours', async () => {
  const { beat, store, dispatcher, listener, add } = rig({ fenceToken: () => 'mine' });
  const key = add(definition('fenced'));
  store.lockHolder = 'someone-else';
  beat.start();
  await clock.advance(1000);
  assert.equal(listener.log.fenced, 1);
  assert.equal(dispatcher.calls[0]?.fenceToken, 'mine');
  assert.equal(dispatcher.published.length, 0);
  assert.equal(store.stateOf(key)?.totalRunCount, 0);
  store.lockHolder = 'mine';
  await clock.advance(200);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000]);
  assert.equal(listener.log.fenced, 1);
  await beat.stop();
});

test('a vanished key is handed to the owner of definitions, then dispatched with the run state the beat holds', async () => {
  const missing: string[] = [];
  const { beat, store, dispatcher, add } = rig({ keyMissing: (key) => missing.push(key) });
  const key = add(definition('gone'), t0, { totalRunCount: 41, lastTaskId: 'x', lastTaskSlot: t0 });
  store.keys.delete(key);
  beat.start();
  await clock.advance(1000);
  assert.deepEqual(missing, [key], 'asked for once');
  assert.deepEqual(
    store.calls.filter((c) => c.method === 'upsert'),
    [],
    'the beat never writes a definition',
  );
  // What the reconciler does: the key written again with the beat's run state, the task set again.
  const held = beat.get(key)!;
  store.put(key, held.def.uid, held.state);
  beat.set(key, held, false);
  await clock.advance(10);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000]);
  assert.equal(store.stateOf(key)?.totalRunCount, 42);
  await beat.stop();
});

test('a key that lost its run state is handed over the same way, and retried after its backoff meanwhile', async () => {
  const missing: string[] = [];
  const { beat, store, dispatcher, add } = rig({ keyMissing: (key) => missing.push(key) });
  const key = add(definition('broken'), t0, { totalRunCount: 7 });
  store.corrupt(key);
  beat.start();
  await clock.advance(1000);
  await clock.advance(200);
  assert.deepEqual(missing, [key, key], 'asked again at its retry');
  assert.equal(dispatcher.calls.length, 2);
  assert.deepEqual(dispatcher.publishedSlots(key), []);
  await beat.stop();
});

test('after a gap only the latest slot runs; the others are counted as missed', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  // Down for 10 s: the ten slots t0-9000 … t0 are due at once.
  const key = add(definition('late'), t0 - 10_000);
  beat.start();
  await clock.advance(10);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0]);
  const state = store.stateOf(key);
  assert.equal(state?.missedRunCount, 9);
  assert.equal(state?.totalRunCount, 1);
  assert.equal(state?.cursor, t0);
  assert.equal(listener.log.recorded.at(-1)?.nextRunAt, t0 + 1000);
  await beat.stop();
});

test('a latest slot past startingDeadlineSeconds is not run, only counted as missed', async () => {
  const { beat, store, dispatcher, add } = rig();
  const def = definition('deadline', {
    schedule: { kind: 'interval', every: 10, period: 'seconds' },
    startingDeadlineSeconds: 2,
  });
  const key = add(def, t0 - 35_000); // slots t0-25s, -15s, -5s: the latest is 5 s late
  beat.start();
  await clock.advance(10);
  assert.equal(dispatcher.published.length, 0);
  assert.equal(dispatcher.calls.length, 1, 'the missed slots are still recorded');
  assert.equal(store.stateOf(key)?.missedRunCount, 3);
  assert.equal(store.stateOf(key)?.cursor, t0 - 5000);
  await clock.advance(5000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 5000], 'the next slot runs on time');
  await beat.stop();
});

test('a clock jump (suspended VM) is noticed within a second, with the slots in between counted as missed', async () => {
  const { beat, store, dispatcher, add } = rig();
  const key = add(definition('sleepy', { schedule: { kind: 'interval', every: 1, period: 'minutes' } }));
  beat.start();
  await settle();
  // Wall time moves 10 minutes on while the timers did not run.
  clock.jump(600_000);
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 600_000]);
  assert.equal(store.stateOf(key)?.missedRunCount, 9);
  await beat.stop();
});

test('disabled tasks and completed oneOff and clocked tasks are not dispatched', async () => {
  const { beat, dispatcher, add } = rig();
  const disabled = add(definition('disabled', { enabled: false }));
  const doneOnce = add(definition('done-once', { oneOff: true }), t0, { totalRunCount: 1 });
  const doneClocked = add(
    definition('done-clocked', { schedule: { kind: 'clocked', at: t0 + 500 } }),
    t0 - 1,
    { totalRunCount: 1 },
  );
  const once = add(definition('once', { oneOff: true }));
  const clocked = add(definition('clocked', { schedule: { kind: 'clocked', at: t0 + 500 } }), t0 - 1);
  beat.start();
  await clock.advance(10_000, 50);
  for (const key of [disabled, doneOnce, doneClocked]) {
    assert.deepEqual(dispatcher.publishedSlots(key), [], key);
    assert.equal(beat.nextRunAt(key), null, key);
  }
  assert.deepEqual(dispatcher.publishedSlots(once), [t0 + 1000], 'a oneOff task runs once');
  assert.deepEqual(dispatcher.publishedSlots(clocked), [t0 + 500], 'a clocked task runs at its instant');
  assert.equal(beat.nextRunAt(once), null);
  assert.equal(beat.nextRunAt(clocked), null);
  assert.equal(dispatcher.calls.length, 2);
  await beat.stop();
});

test('a task replaced or deleted while its slot is in flight follows its new definition', async () => {
  const { beat, dispatcher, listener, add } = rig();
  const kept = add(definition('kept'));
  const gone = add(definition('gone'));
  dispatcher.hold();
  beat.start();
  await clock.advance(1000);
  assert.equal(dispatcher.pending, 1);
  beat.delete(gone);
  const slower = definition('kept', { schedule: { kind: 'interval', every: 5, period: 'seconds' } });
  beat.set(kept, beatTask(slower, runState(t0)));
  dispatcher.release();
  await clock.advance(10);
  assert.equal(beat.get(gone), undefined);
  assert.equal(beat.get(kept)?.state.totalRunCount, 1, 'the recorded slot is kept');
  // The run went out: the status hears of it under the new definition (a paused task records nothing more).
  const told = listener.log.recorded.filter((r) => r.key === kept);
  assert.equal(told.at(-1)?.state.totalRunCount, 1, 'the run is told');
  assert.equal(told.at(-1)?.nextRunAt, t0 + 6000, 'with the next slot of the new definition');
  assert.equal(beat.nextRunAt(kept), t0 + 6000, 'the next slot follows the new definition');
  await clock.advance(10_000, 50);
  assert.deepEqual(dispatcher.publishedSlots(gone), [t0 + 1000]);
  assert.deepEqual(dispatcher.publishedSlots(kept), [t0 + 1000, t0 + 6000, t0 + 11_000]);
  await beat.stop();
});

test('a message that cannot be built is reported to the listener and does not stop the other tasks', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const bad = add(definition('bad', { args: [10n] }));
  const good = add(definition('good'));
  beat.start();
  await clock.advance(3000);
  assert.deepEqual(dispatcher.publishedSlots(good), [t0 + 1000, t0 + 2000, t0 + 3000]);
  assert.deepEqual(dispatcher.publishedSlots(bad), []);
  assert.ok(
    listener.log.rejected.some((r) => r.key === bad),
    'the task is told why',
  );
  assert.equal(
    store.stateOf(bad)?.missedRunCount,
    3,
    'its slots are recorded as missed, not retried forever',
  );
  await beat.stop();
});

test('stop() waits for the batch in flight, and nothing is dispatched after it', async () => {
  const { beat, store, dispatcher, add } = rig();
  const key = add(definition('busy'));
  dispatcher.hold();
  beat.start();
  await clock.advance(1000);
  assert.equal(dispatcher.pending, 1);
  let stopped = false;
  const stopping = beat.stop().then(() => {
    stopped = true;
  });
  await clock.advance(500);
  assert.equal(stopped, false, 'stop() returned while a batch was in flight');
  dispatcher.release();
  await stopping;
  assert.equal(store.stateOf(key)?.totalRunCount, 1, 'the batch in flight was completed');
  await clock.advance(5000, 100);
  assert.equal(dispatcher.calls.length, 1);
});

/** An OverlapGuard whose answers the test sets; it records what it was asked. */
function scriptedGuard() {
  const guard = {
    running: new Set<string>(),
    failing: false,
    asked: [] as string[][],
    revoked: [] as string[][],
    /** The namespace of each revoke: its runs are revoked on that namespace's broker. */
    revokedIn: [] as string[],
    async unfinished(ids: readonly string[]) {
      guard.asked.push([...ids]);
      if (guard.failing) throw new Error('backend down');
      return new Set(ids.filter((id) => guard.running.has(id)));
    },
    async revoke(namespace: string, ids: readonly string[]) {
      guard.revokedIn.push(namespace);
      guard.revoked.push([...ids]);
    },
  };
  return guard;
}

test('Forbid: a slot whose previous run has not finished is recorded as missed, then runs resume', async () => {
  const guard = scriptedGuard();
  const skipped: string[] = [];
  const listener = recordingListener();
  const { beat, dispatcher, store, add } = rig({
    overlap: guard,
    listener: { ...listener, skipped: (_def, _state, _next, reason) => skipped.push(reason) },
  });
  const key = add(definition('f', { concurrencyPolicy: 'Forbid' }));
  const plain = add(definition('p'));
  beat.start();
  await clock.advance(1000);
  const first = store.stateOf(key)!.lastTaskId!;
  assert.equal(guard.asked.length, 0, 'a first run has nothing to wait for');
  guard.running.add(first);
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000], 'the second slot is not sent');
  assert.deepEqual(store.stateOf(key), {
    ...store.stateOf(key)!,
    cursor: t0 + 2000,
    totalRunCount: 1,
    missedRunCount: 1,
  });
  assert.match(skipped[0] ?? '', new RegExp(`previous run ${first} has not finished.*Forbid`));
  assert.deepEqual(dispatcher.publishedSlots(plain), [t0 + 1000, t0 + 2000], 'other tasks are not held up');
  guard.running.clear();
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 3000]);
  guard.failing = true;
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 3000], 'unknown means skip for Forbid');
  await beat.stop();
});

test('Replace: the unfinished previous run is revoked, then the new one is sent', async () => {
  const guard = scriptedGuard();
  const { beat, dispatcher, store, add } = rig({ overlap: guard });
  const key = add(definition('r', { concurrencyPolicy: 'Replace' }));
  beat.start();
  await clock.advance(1000);
  const first = store.stateOf(key)!.lastTaskId!;
  guard.running.add(first);
  await clock.advance(1000);
  assert.deepEqual(guard.revoked, [[first]]);
  assert.deepEqual(guard.revokedIn, ['ns'], "on the task's namespace's broker");
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 2000]);
  guard.running.clear();
  await clock.advance(1000);
  assert.deepEqual(guard.revoked, [[first]], 'a finished run is not revoked');
  await settle();
  await beat.stop();
});

test('jitter: each slot runs at its offset in [0, jitter), the same in two beats; the slot stays nominal', async () => {
  const def = definition('j', {
    schedule: { kind: 'interval', every: 10, period: 'seconds' },
    jitterMs: 4000,
  });
  const one = rig();
  const two = rig();
  const k1 = one.add(def);
  two.add(def);
  one.beat.start();
  two.beat.start();
  await clock.advance(64_000);
  const sent = (r: BeatRig) =>
    r.dispatcher.calls.flatMap((c) =>
      c.slots.filter((s) => s.publish).map((s) => ({ at: c.at, slot: s.next.lastTaskSlot! })),
    );
  const a = sent(one);
  assert.equal(a.length, 6);
  assert.deepEqual(
    a.map((x) => x.slot),
    [1, 2, 3, 4, 5, 6].map((i) => t0 + i * 10_000),
    'nominal slots on the grid',
  );
  const offsets = a.map((x) => x.at - x.slot);
  for (const off of offsets) assert.ok(off >= 0 && off < 4000, `offset ${off} within [0, 4000)`);
  assert.ok(new Set(offsets).size > 1, 'the offset differs from slot to slot');
  assert.deepEqual(sent(two), a, 'a second beat computes the same instants');
  const nextRun = one.beat.nextRunAt(k1)! - (t0 + 70_000);
  assert.ok(nextRun >= 0 && nextRun < 4000, 'nextRunAt is the jittered time of the next slot');
  await one.beat.stop();
  await two.beat.stop();
});

test('pause: no runs and no missed slots while paused; at until it resumes by itself', async () => {
  const until = clock.now() + 5500;
  const { beat, dispatcher, store, listener, add } = rig();
  const key = add(definition('p', { pause: { reason: 'migration', until } }));
  beat.start();
  assert.equal(beat.nextRunAt(key), until, 'the next action is the end of the pause');
  await clock.advance(5000);
  assert.deepEqual(dispatcher.publishedSlots(key), []);
  await clock.advance(500);
  assert.equal(store.stateOf(key)?.missedRunCount, 0, 'slots in the pause are not missed');
  assert.equal(store.stateOf(key)?.cursor, t0 + 5000, 'they are accounted for');
  await clock.advance(1500);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 6000, t0 + 7000]);
  assert.equal(listener.log.recorded.at(-1)?.key, 'ns/p');
  assert.equal(store.stateOf(key)?.pausedRunCount, 5, 'counted in the stored run state');
  await beat.stop();
});

test('a schedule change is a cursor move the beat records: slots of the new schedule before it are not missed', async () => {
  const { beat, dispatcher, store, add } = rig();
  const key = add(definition('edited'));
  await clock.advance(5000);
  const every2 = definition('edited', { schedule: { kind: 'interval', every: 2, period: 'seconds' } });
  beat.set(key, beatTask(every2, runState(t0)), true, { reason: 'schedule-changed', at: clock.now() });
  assert.equal(beat.nextRunAt(key), t0 + 7000, 'the next run follows the move');
  beat.start();
  await clock.advance(1);
  assert.deepEqual(dispatcher.publishedSlots(key), [], 'the move runs nothing');
  assert.deepEqual(store.stateOf(key), runState(t0 + 5000), 'the cursor moved, nothing counted');
  await clock.advance(2000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 7000]);
  await beat.stop();
});

test('an owed schedule change is recorded alone before any run: the stored cursor anchors the new grid', async () => {
  const { beat, dispatcher, store, add } = rig();
  const key = add(definition('late'));
  await clock.advance(5000);
  const every2 = definition('late', { schedule: { kind: 'interval', every: 2, period: 'seconds' } });
  beat.set(key, beatTask(every2, runState(t0)), true, { reason: 'schedule-changed', at: clock.now() });
  // The beat acts only after two slots of the new grid have passed.
  await clock.advance(4500);
  beat.start();
  for (let i = 0; i < 3; i += 1) await clock.advance(1);
  const [first] = dispatcher.calls;
  assert.deepEqual(
    first?.slots.map((s) => [s.next.cursor, s.publish !== undefined]),
    [[t0 + 5000, false]],
    'the move first, running nothing',
  );
  assert.deepEqual(
    dispatcher.publishedSlots(key),
    [t0 + 9000],
    'then the latest slot of the grid through it',
  );
  assert.equal(store.stateOf(key)?.missedRunCount, 1, 'and the slot before it missed');
  await beat.stop();
});

test('a resume is a cursor move the beat records: the slots of the pause are counted as paused in the run state', async () => {
  const { beat, dispatcher, store, add } = rig();
  const key = add(definition('resumed', { pause: { reason: 'migration' } }));
  beat.start();
  await clock.advance(3500);
  assert.deepEqual(dispatcher.calls, [], 'a pause without an end wakes nothing');
  beat.set(key, beatTask(definition('resumed'), runState(t0)), true, { reason: 'resumed', at: clock.now() });
  await clock.advance(1);
  assert.deepEqual(store.stateOf(key), runState(t0 + 3000, { pausedRunCount: 3 }));
  await clock.advance(500);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 4000]);
  assert.equal(store.stateOf(key)?.pausedRunCount, 3, 'kept by the next run');
  await beat.stop();
});

test('a cursor move lost to another dispatcher stays owed until the stored cursor has passed it', async () => {
  const { beat, dispatcher, store, add } = rig();
  const key = add(definition('raced'));
  await clock.advance(5000);
  beat.set(key, beatTask(definition('raced'), runState(t0)), true, {
    reason: 'schedule-changed',
    at: clock.now(),
  });
  dispatcher.answer(key, { status: 'conflict', stored: runState(t0 + 2000, { totalRunCount: 2 }) });
  beat.start();
  for (let i = 0; i < 5; i += 1) await clock.advance(1);
  assert.equal(dispatcher.calls.length >= 2, true, 'tried again after the conflict');
  assert.equal(store.stateOf(key)?.cursor, t0 + 5000, 'moved after the conflict');
  await beat.stop();
});

test('a publish of unknown outcome: the claim stays (the slot is not sent again), counted and reported, not a run', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const key = add(definition('lost'));
  const claimed = runState(t0 + 1000, { unknownRunCount: 1 });
  dispatcher.answer(key, { status: 'unknown', error: new Error('no confirm'), stored: claimed });
  store.put(key, 'uid-lost', claimed);
  beat.start();
  await clock.advance(1000);
  assert.deepEqual(beat.get(key)?.state, claimed);
  assert.equal(listener.log.recorded.at(-1)?.state.unknownRunCount, 1, 'reported');
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 2000], 'the next slot, not the unknown one again');
  assert.equal(store.stateOf(key)?.totalRunCount, 1, 'only the confirmed run counts');
  assert.equal(store.stateOf(key)?.unknownRunCount, 1);
  await beat.stop();
});

test('a claim left under way by a dispatcher that stopped is counted as unknown once abandoned, never sent', async () => {
  const { beat, store, dispatcher, listener, add } = rig();
  const hourly = definition('crashed', { schedule: { kind: 'interval', every: 1, period: 'hours' } });
  const publishing = { taskId: 'id-of-the-lost-publish', since: t0 - 1000 };
  const key = add(hourly, t0 - 1000, { publishing });
  beat.start();
  await clock.advance(ABANDONED_CLAIM_MS - 1010);
  assert.equal(store.stateOf(key)?.publishing, publishing, 'left to its dispatcher for a while');
  assert.equal(listener.log.recorded.length, 0);
  await clock.advance(20);
  assert.deepEqual(store.stateOf(key), runState(t0 - 1000, { unknownRunCount: 1 }));
  assert.equal(dispatcher.published.length, 0, 'nothing sent');
  assert.equal(listener.log.recorded.at(-1)?.state.unknownRunCount, 1, 'reported');
  assert.equal(beat.nextRunAt(key), t0 - 1000 + 3_600_000, 'the schedule goes on from the same cursor');
  await beat.stop();
});

test("a read that caught the beat's own publish under way, settled since, does not take the beat back", async () => {
  const { beat, store, dispatcher, add } = rig();
  const def = definition('racy');
  const key = add(def);
  beat.start();
  await clock.advance(1000);
  const settled = store.stateOf(key)!;
  const underWay = { ...settled, totalRunCount: 0, publishing: { taskId: 'id', since: t0 + 1000 } };
  beat.set(key, beatTask(def, underWay), false);
  assert.deepEqual(beat.get(key)?.state, settled);
  await clock.advance(1000);
  assert.deepEqual(dispatcher.publishedSlots(key), [t0 + 1000, t0 + 2000], 'not held up');
  await beat.stop();
});

test('namespaces take turns in a batch: 5,000 slots due in one namespace do not hold back another', async () => {
  const { beat, dispatcher, add } = rig({ batchSize: 100 });
  const every = { schedule: { kind: 'interval' as const, every: 60, period: 'seconds' as const } };
  // The flood's slots fall due a millisecond before the quiet namespace's one: earliest first would send them all first.
  for (let i = 0; i < 5000; i += 1) add(definition(`bulk-${i}`, { ...every, namespace: 'flood' }), t0 - 1);
  const quiet = add(definition('one', { ...every, namespace: 'quiet' }));
  dispatcher.hold();
  beat.start();
  await clock.advance(60_000);
  await settle();
  // The first batch is under way (held); the quiet namespace's slot is in it, not 50 batches later.
  const first = dispatcher.calls[0]!.slots.map((s) => s.taskKey);
  assert.equal(first.length, 100);
  assert.ok(first.includes(quiet), 'in the first batch');
  dispatcher.release();
  await clock.advance(1000, 50);
  assert.equal(dispatcher.publishedSlots(quiet).length, 1);
  await beat.stop();
});

test("maxRunsPerSecond: a namespace's runs beyond its rate wait their turn; another namespace's are on time", async () => {
  const { beat, dispatcher, add } = rig({ runsPerSecond: (ns) => (ns === 'flood' ? 10 : undefined) });
  const flood = Array.from({ length: 50 }, (_, i) => add(definition(`bulk-${i}`, { namespace: 'flood' })));
  const quiet = add(definition('one', { namespace: 'quiet' }));
  beat.start();
  await clock.advance(10_000, 10);
  await beat.stop();
  assertEachSlotOnce(dispatcher);
  // Ten a second with a second's worth of burst: never more than rate × elapsed + burst.
  const sentAt = dispatcher.published
    .filter((s) => flood.includes(s.taskKey))
    .map((s) => dispatcher.calls.find((c) => c.slots.includes(s))!.at - t0);
  for (let second = 1; second <= 10; second += 1) {
    const upTo = sentAt.filter((at) => at <= second * 1000).length;
    assert.ok(upTo <= 10 * second + 10, `${upTo} flood runs by ${second} s`);
  }
  assert.ok(sentAt.length >= 90, `${sentAt.length} flood runs: the rate is used`);
  assert.deepEqual(
    dispatcher.publishedSlots(quiet),
    Array.from({ length: 10 }, (_, i) => t0 + (i + 1) * 1000),
    'the quiet namespace runs every slot',
  );
  for (const call of dispatcher.calls)
    for (const slot of call.slots.filter((s) => s.taskKey === quiet))
      assert.equal(call.at, slot.next.lastTaskSlot, 'on time');
});
