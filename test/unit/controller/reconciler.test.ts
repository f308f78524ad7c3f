// The Reconciler against fakes of its interfaces: create, update, delete, prune, a vanished key, conflicts,
// and the rule that run state is deleted only when the task is gone from a complete, readable desired set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import type { AdoptResult, HandWrittenKeys, RunState, SlotDispatcher } from '../../../src/contracts.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { periodicTask, recordingListener, runState } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';
import { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';

const NOW = Date.UTC(2030, 0, 1);
const logger = createLogger('silent');

/** Never started: these tests look at what the reconciler hands the beat, not at dispatches. */
const idleDispatcher: SlotDispatcher = { dispatch: async () => [] };

function setup() {
  const store = new MemoryTaskStore();
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher: idleDispatcher,
    listener: recordingListener(),
    logger,
    clock: () => NOW,
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: () => NOW,
  });
  const lastReady = (name: string) =>
    status.reports.filter((r) => r.name === name && r.update.ready).at(-1)?.update.ready;
  return { store, status, events, beat, reconciler, lastReady };
}

/** A copy with a changed spec, as a source hands out a new object when a resource changes. */
function edited(object: PeriodicTask, spec: Partial<PeriodicTask['spec']>): PeriodicTask {
  return { ...object, metadata: { ...object.metadata }, spec: { ...object.spec, ...spec } };
}

test('a new task gets a key whose cursor is the moment it is first seen, and Ready True', async () => {
  const { store, beat, reconciler, lastReady } = setup();
  await reconciler.reconcile([periodicTask('a')]);
  assert.deepEqual(store.stateOf('ns/a'), runState(NOW));
  assert.equal(beat.nextRunAt('ns/a'), NOW + 1000);
  assert.equal(lastReady('a')?.status, 'True');
});

test('an edit keeps the run state; an unchanged object writes nothing', async () => {
  const { store, beat, reconciler } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  store.put('ns/a', 'uid-a', runState(NOW - 5000, { totalRunCount: 7, lastTaskSlot: NOW - 5000 }));
  await reconciler.reconcile([a]);
  assert.equal(
    store.calls.filter((c) => c.method === 'upsert').length,
    1,
    'the same object is not written again',
  );
  await reconciler.reconcile([edited(a, { args: [3, 4] })]);
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 7);
  assert.deepEqual(beat.get('ns/a')?.def.args, [3, 4]);
});

test('a task removed from a complete desired set loses its key; from an incomplete one it keeps it', async () => {
  const { store, beat, reconciler } = setup();
  const a = periodicTask('a');
  const b = periodicTask('b');
  await reconciler.reconcile([a, b]);
  store.put('ns/a', 'uid-a', runState(NOW, { totalRunCount: 3 }));

  await reconciler.reconcile([b], false, false);
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 3, 'run state kept while the set is incomplete');
  assert.equal(beat.get('ns/a'), undefined, 'but the task is no longer dispatched');

  await reconciler.reconcile([a, b], false, false);
  assert.equal(beat.get('ns/a')?.state.totalRunCount, 3, 'back, with its run state');

  await reconciler.reconcile([b]);
  assert.equal(store.keys.has('ns/a'), false);
  assert.equal(beat.get('ns/a'), undefined);
  assert.ok(store.keys.has('ns/b'));
});

test('a spec that becomes invalid is not dispatched, keeps its key and run state, and resumes from them when fixed', async () => {
  const { store, events, beat, reconciler, lastReady } = setup();
  const a = periodicTask('a', { crontab: { minute: '*/5' }, interval: undefined, timeZone: 'Europe/Berlin' });
  await reconciler.reconcile([a]);
  store.put('ns/a', 'uid-a', runState(NOW, { totalRunCount: 9, lastTaskSlot: NOW }));
  await reconciler.reconcile([a], true);

  const broken = edited(a, { timeZone: 'Mars/Olympus_Mons' });
  await reconciler.reconcile([broken]);
  await reconciler.reconcile([broken], true);
  assert.equal(beat.get('ns/a'), undefined);
  assert.equal(lastReady('a')?.reason, 'InvalidSpec');
  assert.match(lastReady('a')?.message ?? '', /spec\.timeZone: .*Mars\/Olympus_Mons/);
  assert.equal(
    events.warnings.filter((w) => w.reason === 'InvalidSpec').length,
    1,
    'one event per distinct problem',
  );
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 9);

  await reconciler.reconcile([edited(a, { timeZone: 'Europe/Paris' })]);
  assert.equal(beat.get('ns/a')?.state.totalRunCount, 9);
  assert.equal(lastReady('a')?.status, 'True');
});

test('an invalid task that is then deleted loses its key', async () => {
  const { store, reconciler } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  await reconciler.reconcile([edited(a, { timeZone: 'Nowhere/Land' })]);
  assert.ok(store.keys.has('ns/a'));
  await reconciler.reconcile([]);
  assert.equal(store.keys.has('ns/a'), false);
});

test('a document with a misspelt apiVersion is an invalid task that keeps its key', async () => {
  const { store, reconciler, lastReady } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  store.put('ns/a', 'uid-a', runState(NOW, { totalRunCount: 4 }));
  await reconciler.reconcile([{ ...a, apiVersion: 'celerybeat.io/v1aplha1' }]);
  assert.equal(lastReady('a')?.reason, 'InvalidSpec');
  assert.match(lastReady('a')?.message ?? '', /apiVersion/);
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 4);
});

test('a re-created resource (new uid) starts a new key; the old run state goes with the old resource', async () => {
  const { store, reconciler } = setup();
  await reconciler.reconcile([periodicTask('a')]);
  store.put('ns/a', 'uid-a', runState(NOW - 60_000, { totalRunCount: 5 }));
  await reconciler.reconcile([periodicTask('a', {}, 'uid-a2')]);
  assert.deepEqual(store.stateOf('ns/a'), runState(NOW));
});

test('a key owned by something else is left alone and reported as KeyConflict', async () => {
  const { store, events, beat, reconciler, lastReady } = setup();
  store.putForeign('ns/a');
  await reconciler.reconcile([periodicTask('a')]);
  assert.equal(lastReady('a')?.reason, 'KeyConflict');
  assert.equal(events.warnings[0]?.reason, 'KeyConflict');
  assert.equal(beat.get('ns/a'), undefined);
  assert.equal(store.keys.get('ns/a')?.owner, null);
});

test('a key taken over by someone else while dispatched: a verify pass leaves it alone and stops dispatching the task', async () => {
  const { store, beat, reconciler, lastReady } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  assert.ok(beat.get('ns/a'));
  store.putForeign('ns/a');
  await reconciler.reconcile([a], true);
  assert.equal(lastReady('a')?.reason, 'KeyConflict');
  assert.equal(beat.get('ns/a'), undefined, 'no longer dispatched');
  assert.equal(store.keys.get('ns/a')?.owner, null, 'the foreign key is untouched');
});

test('a vanished key is re-created by a verify pass with the run state the beat knows', async () => {
  const { store, beat, reconciler } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  const task = beat.get('ns/a');
  assert.ok(task);
  beat.set('ns/a', { ...task, state: runState(NOW, { totalRunCount: 12 }) }, false);
  store.keys.delete('ns/a');
  await reconciler.reconcile([a]);
  assert.equal(store.keys.has('ns/a'), false, 'an ordinary pass skips an unchanged object');
  await reconciler.reconcile([a], true);
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 12);
});

test('a failed store write is counted and reported; other tasks are reconciled', async () => {
  const { store, reconciler, lastReady } = setup();
  store.failNext('upsert', new Error('connection refused'));
  const { failed } = await reconciler.reconcile([periodicTask('a'), periodicTask('b')]);
  assert.equal(failed, 1);
  const reasons = ['a', 'b'].map((n) => lastReady(n)?.reason).sort();
  assert.deepEqual(reasons, ['Scheduled', 'StoreUnavailable']);
});

test('prune deletes owned orphans only from a complete set and reports unreadable keys', async () => {
  const { store, reconciler } = setup();
  store.put('ns/orphan', 'uid-orphan', runState(NOW));
  store.put('ns/a', 'uid-a', runState(NOW));
  store.putForeign('ns/foreign');
  store.putUnreadable('ns/garbage', 'value is not valid JSON');
  assert.equal(await reconciler.prune([periodicTask('a')], false), 0);
  assert.ok(store.keys.has('ns/orphan'));
  assert.equal(await reconciler.prune([periodicTask('a')]), 1);
  assert.equal(store.keys.has('ns/orphan'), false);
  assert.ok(store.keys.has('ns/a') && store.keys.has('ns/foreign') && store.keys.has('ns/garbage'));
});

test('a clocked task whose one slot was missed is Completed, not Scheduled', async () => {
  const { store, beat, reconciler, lastReady } = setup();
  const at = '2029-12-31T00:00:00Z';
  const a = periodicTask('a', { interval: undefined, clocked: at, startingDeadlineSeconds: 60 });
  store.put('ns/a', 'uid-a', runState(Date.parse(at), { missedRunCount: 1 }));
  await reconciler.reconcile([a]);
  assert.equal(beat.nextRunAt('ns/a'), null);
  assert.equal(lastReady('a')?.reason, 'Completed');
  assert.match(lastReady('a')?.message ?? '', /missed/);
});

test('maxRuns reached and endTime passed: Completed, naming the limit', async () => {
  const { store, beat, reconciler, lastReady } = setup();
  const limited = periodicTask('limited', { maxRuns: 3 });
  store.put('ns/limited', 'uid-limited', runState(NOW, { totalRunCount: 3 }));
  const end = '2029-12-31T00:00:00Z';
  const ended = periodicTask('ended', { endTime: end });
  store.put('ns/ended', 'uid-ended', runState(Date.parse(end)));
  const going = periodicTask('going', { maxRuns: 3, endTime: '2099-01-01T00:00:00Z' });
  store.put('ns/going', 'uid-going', runState(NOW, { totalRunCount: 2 }));
  await reconciler.reconcile([limited, ended, going]);
  assert.equal(beat.nextRunAt('ns/limited'), null);
  assert.deepEqual(lastReady('limited'), {
    status: 'False',
    reason: 'Completed',
    message: 'ran 3 times (spec.maxRuns); it will not run again',
  });
  assert.equal(beat.nextRunAt('ns/ended'), null);
  assert.equal(lastReady('ended')?.reason, 'Completed');
  assert.match(lastReady('ended')?.message ?? '', /spec\.endTime 2029-12-31T00:00:00\.000Z/);
  assert.equal(lastReady('going')?.reason, 'Scheduled');
});

test('a new key takes the run state carried over in the import annotations; an existing key keeps its own', async () => {
  const { store, beat, reconciler } = setup();
  const lastRun = NOW - 400;
  const moved = periodicTask('moved');
  moved.metadata.annotations = {
    'celerybeat.io/last-run-at': new Date(lastRun).toISOString(),
    'celerybeat.io/total-run-count': '41',
  };
  await reconciler.reconcile([moved]);
  assert.equal(store.stateOf('ns/moved')?.cursor, lastRun);
  assert.equal(store.stateOf('ns/moved')?.totalRunCount, 41);
  // The next run is the one the old scheduler would have made: one interval after its last run.
  assert.equal(beat.nextRunAt('ns/moved'), lastRun + 1000);

  const again = edited(moved, { args: [1] });
  again.metadata.annotations = { ...moved.metadata.annotations, 'celerybeat.io/total-run-count': '7' };
  await reconciler.reconcile([again]);
  assert.equal(store.stateOf('ns/moved')?.totalRunCount, 41);
});

test('malformed import annotations make the task invalid, naming the annotation', async () => {
  const { store, reconciler, lastReady } = setup();
  const moved = periodicTask('bad');
  moved.metadata.annotations = {
    'celerybeat.io/last-run-at': 'yesterday',
    'celerybeat.io/total-run-count': '-1',
  };
  await reconciler.reconcile([moved]);
  const ready = lastReady('bad');
  assert.equal(ready?.reason, 'InvalidSpec');
  assert.match(
    ready?.message ?? '',
    /metadata\.annotations\["celerybeat\.io\/last-run-at"\]: Invalid value: "yesterday"/,
  );
  assert.match(ready?.message ?? '', /celerybeat\.io\/total-run-count"\]: Invalid value: "-1"/);
  assert.equal(store.stateOf('ns/bad'), undefined);
});

test('a hand-written key is adopted, never upserted; the beat state is passed as known; "changed" is tried again', async () => {
  const store = new MemoryTaskStore();
  const status = new RecordingStatusSink();
  const beat = new Beat({
    dispatcher: idleDispatcher,
    listener: recordingListener(),
    logger,
    clock: () => NOW,
  });
  const adopts: Array<{ key: string; fallback: RunState; known: RunState | undefined }> = [];
  let reply: AdoptResult = { status: 'adopted', state: runState(NOW - 300, { totalRunCount: 4 }) };
  const handWritten: HandWrittenKeys = {
    adopt: async (key, fallback, known) => {
      adopts.push({ key, fallback, known });
      return reply;
    },
  };
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events: new RecordingEvents(),
    logger,
    defaultTimeZone: 'UTC',
    handWritten,
    clock: () => NOW,
  });
  const hand = periodicTask('every-second', {}, 'redis:every-second');
  hand.metadata.namespace = '';
  await reconciler.reconcile([hand]);
  assert.deepEqual(adopts, [{ key: 'every-second', fallback: runState(NOW), known: undefined }]);
  assert.equal(
    store.calls.filter((c) => c.method === 'upsert').length,
    0,
    'the user key is never written as ours',
  );
  assert.equal(beat.nextRunAt('every-second'), NOW - 300 + 1000);
  assert.ok(status.reports.some((r) => r.namespace === '' && r.name === 'every-second'));

  const edited1 = edited(hand, { args: [2] });
  reply = { status: 'changed' };
  await reconciler.reconcile([edited1]);
  assert.deepEqual(
    adopts[1]?.known,
    runState(NOW - 300, { totalRunCount: 4 }),
    'what the beat recorded is the known state',
  );
  assert.equal(beat.nextRunAt('every-second'), NOW - 300 + 1000, 'the beat keeps the task meanwhile');
  reply = { status: 'unchanged', state: runState(NOW - 300, { totalRunCount: 4 }) };
  await reconciler.reconcile([edited1]);
  assert.equal(adopts.length, 3, 'the same object is adopted again after "changed"');
});

test('an edit of what the Redis value does not hold (pause, jitter, concurrencyPolicy) still reconciles', async () => {
  const { beat, reconciler, lastReady } = setup();
  const task = periodicTask('p');
  await reconciler.reconcile([task]);
  assert.equal(lastReady('p')?.reason, 'Scheduled');
  await reconciler.reconcile([edited(task, { pause: { reason: 'migration' } })]);
  assert.equal(lastReady('p')?.reason, 'Paused');
  assert.match(lastReady('p')?.message ?? '', /migration \(paused until spec.pause is removed\)/);
  assert.equal(beat.nextRunAt('ns/p'), null);
  await reconciler.reconcile([edited(task, { jitterSeconds: 0.5 as unknown as number })]);
  assert.equal(lastReady('p')?.reason, 'InvalidSpec', 'a fractional jitter is refused by the schema');
  await reconciler.reconcile([edited(task, {})]);
  assert.equal(lastReady('p')?.reason, 'Scheduled', 'resumed');
});

test('a pass over many unchanged tasks (a relist hands out new objects) lets timers and I/O run meanwhile', async () => {
  const { reconciler } = setup();
  const tasks = Array.from({ length: 2000 }, (_, i) => periodicTask(`t${i}`));
  await reconciler.reconcile(tasks);
  // New objects with the same content, as after a relist: each is looked at, none needs a write, so no
  // step of the pass waits on I/O. The event loop must still get its turns during the pass.
  const relisted = tasks.map((t) => edited(t, {}));
  let turns = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    turns += 1;
    setImmediate(count);
  };
  setImmediate(count);
  await reconciler.reconcile(relisted);
  counting = false;
  assert.ok(turns >= 10, `the event loop turned ${turns} time(s) during a pass over 2,000 tasks`);
});

test('a resync keeps showing why a task is not sent; an edit of the task forgets it', async () => {
  let now = NOW;
  const store = new MemoryTaskStore();
  const status = new RecordingStatusSink();
  const dispatcher = new ScriptedDispatcher({ store, clock: () => now });
  const listener = recordingListener();
  const beat = new Beat({ dispatcher, listener, logger, clock: () => now });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events: new RecordingEvents(),
    logger,
    defaultTimeZone: 'UTC',
    clock: () => now,
  });
  const lastReady = () => status.reports.filter((r) => r.name === 'a' && r.update.ready).at(-1)?.update.ready;
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  dispatcher.answer('ns/a', {
    status: 'publish-failed',
    error: new Error('queue "q" is a Redis hash, not a list'),
  });
  now = NOW + 1000;
  beat.start();
  try {
    for (let i = 0; i < 10_000 && listener.log.rejected.length === 0; i++)
      await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(listener.log.rejected[0]?.problem, 'PublishFailed');
    await reconciler.reconcile([a], true);
    assert.equal(lastReady()?.status, 'False', 'a verify pass must not show the failing task as Scheduled');
    assert.equal(lastReady()?.reason, 'PublishFailed');
    assert.match(lastReady()?.message ?? '', /is a Redis hash/);
    await reconciler.reconcile([edited(a, { args: [5, 6] })]);
    assert.equal(lastReady()?.status, 'True', 'a changed definition may not have the problem');
  } finally {
    await beat.stop();
  }
});

test('a schedule edit and a resume move no cursor here: the beat is told the move and makes it through its dispatcher', async () => {
  let now = NOW;
  const store = new MemoryTaskStore();
  const dispatcher = new ScriptedDispatcher({ store, clock: () => now });
  const beat = new Beat({ dispatcher, listener: recordingListener(), logger, clock: () => now });
  const reconciler = new Reconciler({
    store,
    beat,
    status: new RecordingStatusSink(),
    events: new RecordingEvents(),
    logger,
    defaultTimeZone: 'UTC',
    clock: () => now,
  });
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  now = NOW + 5500;
  const every2 = edited(a, { interval: { every: 2, period: 'seconds' } });
  await reconciler.reconcile([every2]);
  assert.deepEqual(
    store.calls.filter((c) => c.method === 'dispatch'),
    [],
    'the reconciler writes no run state',
  );
  assert.equal(store.stateOf('ns/a')?.cursor, NOW, 'not moved yet');
  assert.equal(beat.nextRunAt('ns/a'), NOW + 7500, 'the new schedule from the edit on');
  const paused = edited(every2, { pause: { reason: 'migration' } });
  await reconciler.reconcile([paused]);
  now = NOW + 10_000;
  await reconciler.reconcile([edited(every2, {})]);
  beat.start();
  try {
    for (let i = 0; i < 1000 && store.stateOf('ns/a')?.cursor === NOW; i++)
      await new Promise<void>((resolve) => setImmediate(resolve));
    const state = store.stateOf('ns/a');
    assert.equal(state?.missedRunCount, 0, 'nothing counted as missed');
    assert.equal(state?.pausedRunCount, 2, 'the slots of the pause (7.5 s and 9.5 s) counted as paused');
    assert.equal(state?.cursor, NOW + 9500);
  } finally {
    await beat.stop();
  }
});
