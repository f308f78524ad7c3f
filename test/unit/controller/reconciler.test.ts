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

const NOW = Date.UTC(2030, 0, 1);
const logger = createLogger('silent');

/** Never started: these tests look at what the reconciler hands the beat, not at dispatches. */
const idleDispatcher: SlotDispatcher = { dispatch: async () => [] };

function setup() {
  const store = new MemoryTaskStore();
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    store,
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

test('a vanished key is re-created by a verify pass with the run state the beat knows', async () => {
  const { store, beat, reconciler } = setup();
  const a = periodicTask('a');
  await reconciler.reconcile([a]);
  const task = beat.get('ns/a');
  assert.ok(task);
  task.state = runState(NOW, { totalRunCount: 12 });
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
    store,
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
