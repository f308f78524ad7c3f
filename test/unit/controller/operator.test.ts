// Operator with the real Reconciler and Beat over fakes of the store, dispatcher, source, status and
// leadership, under a simulated clock: what leader work starts and stops when, and in which order.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { Operator } from '../../../src/controller/operator.ts';
import { type CurrentObject, Reconciler, type ReconcileSummary } from '../../../src/controller/reconciler.ts';
import { StatusProjection } from '../../../src/controller/status-projection.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { periodicTask, runState } from '../../support/fakes/definitions.ts';
import { DrivenTaskSource } from '../../support/fakes/driven-task-source.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';
import { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';
import { ScriptedLeadership } from '../../support/fakes/scripted-leadership.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock;

beforeEach(() => {
  clock = simulatedClock();
});

afterEach(() => clock.reset());

/** The real reconciler, with each pass recorded and, when a test holds it, kept waiting before it starts. */
class ObservedReconciler extends Reconciler {
  readonly passes: Array<{ names: string[]; verify: boolean; at: number }> = [];
  onPassEnd: (() => void) | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((open) => {
      this.#open = open;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  override async reconcile(
    objects: PeriodicTask[],
    verify = false,
    complete = true,
    current?: CurrentObject,
  ): Promise<ReconcileSummary> {
    this.passes.push({ names: objects.map((o) => o.metadata.name), verify, at: Date.now() });
    try {
      if (this.#gate) await this.#gate;
      return await super.reconcile(objects, verify, complete, current);
    } finally {
      this.onPassEnd?.();
    }
  }

  /** Passes over some tasks only (changed ones, or retries with `verify`), which are not full passes. */
  readonly keyed: Array<{ keys: string[]; verify: boolean; at: number }> = [];

  get retries(): Array<{ names: string[]; at: number }> {
    return this.keyed
      .filter((p) => p.verify)
      .map((p) => ({ names: p.keys.map((k) => k.slice(k.indexOf('/') + 1)), at: p.at }));
  }

  override async reconcileKeys(
    keys: Iterable<string>,
    current: (key: string) => PeriodicTask | undefined,
    complete: boolean,
    verify = false,
  ): Promise<ReconcileSummary> {
    const list = [...keys];
    this.keyed.push({ keys: list, verify, at: Date.now() });
    return super.reconcileKeys(list, current, complete, verify);
  }
}

/** The real beat, with the moment stop() is called recorded. */
class ObservedBeat extends Beat {
  onStop: (() => void) | undefined;
  override async stop(): Promise<void> {
    this.onStop?.();
    await super.stop();
  }
}

interface Rig {
  operator: Operator;
  store: MemoryTaskStore;
  dispatcher: ScriptedDispatcher;
  source: DrivenTaskSource;
  status: RecordingStatusSink;
  leadership: ScriptedLeadership;
  reconciler: ObservedReconciler;
  beat: ObservedBeat;
  lost: number[];
}

async function rig(objects: PeriodicTask[] = [], resyncMs?: number): Promise<Rig> {
  const logger = createLogger('silent');
  const store = new MemoryTaskStore();
  const dispatcher = new ScriptedDispatcher({ store, clock: clock.now });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  let operator: Operator | undefined;
  const beat = new ObservedBeat({
    keyMissing: (key) => operator?.rewriteKey(key),
    dispatcher,
    listener: new StatusProjection(status).beatListener(events, () => {}),
    logger,
    clock: clock.now,
  });
  const reconciler = new ObservedReconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: clock.now,
  });
  const source = new DrivenTaskSource();
  source.objects = objects;
  const leadership = new ScriptedLeadership();
  const lost: number[] = [];
  operator = new Operator({
    source,
    reconciler,
    beat,
    leadership,
    status,
    logger,
    ...(resyncMs === undefined ? {} : { resyncMs }),
    onLeadershipLost: () => lost.push(clock.now()),
    // Retries without jitter: their delays are asserted.
    random: () => 1,
  });
  await operator.start();
  return { operator, store, dispatcher, source, status, leadership, reconciler, beat, lost };
}

test('a key the beat finds gone is written again by the reconciler with the beat’s run state, then dispatched', async () => {
  const r = await rig([periodicTask('a')]);
  r.leadership.win();
  await clock.advance(2010);
  const ran = r.store.stateOf('ns/a')?.totalRunCount ?? 0;
  assert.ok(ran >= 2, `ran ${ran} times`);
  r.store.keys.delete('ns/a');
  await clock.advance(1000);
  assert.equal(
    r.store.stateOf('ns/a')?.totalRunCount,
    ran + 1,
    're-created by the reconciler with its count, then the slot that found it gone was sent',
  );
  const slots = r.dispatcher.publishedSlots('ns/a');
  assert.equal(slots.length, ran + 1);
  assert.equal(new Set(slots).size, slots.length, 'each slot once');
  assert.deepEqual(r.reconciler.retries.at(-1)?.names, ['a'], 'a verifying pass of that task alone');
  await clock.advance(1000);
  assert.ok((r.store.stateOf('ns/a')?.totalRunCount ?? 0) > ran, 'dispatched again');
  await r.operator.stop();
});

test('gaining leadership waits for the source to be synced, then prunes, reconciles and starts the beat', async () => {
  const r = await rig([periodicTask('a')]);
  r.store.put('ns/orphan', 'uid-orphan', runState(0));
  r.source.isSynced = false;
  assert.equal(r.operator.ready(), false);
  r.leadership.win();
  await clock.advance(5000, 100);
  assert.deepEqual(
    r.store.calls.map((c) => c.method),
    ['loadOwned'],
    'before the desired set is read, the store is only read (its tasks are dispatched from)',
  );
  assert.equal(r.reconciler.passes.length, 0);
  r.source.isSynced = true;
  assert.equal(r.operator.ready(), true);
  await clock.advance(100);
  const methods = r.store.calls.map((c) => `${c.method} ${c.taskKey ?? ''}`.trim());
  assert.deepEqual(
    methods.slice(1, 4),
    ['listOwned', 'delete ns/orphan', 'upsert ns/a'],
    'prune, then reconcile',
  );
  assert.equal(r.store.keys.has('ns/orphan'), false);
  assert.deepEqual(
    r.reconciler.passes.map((p) => p.verify),
    [true],
  );
  await clock.advance(1000);
  assert.equal(r.dispatcher.publishedSlots('ns/a').length, 1, 'the beat runs once the pass is done');
  assert.equal(r.status.merged('ns', 'a').totalRunCount, 1, 'dispatches reach the status sink');
  assert.equal(r.operator.leading, true);
  await r.operator.stop();
});

test('keys are not pruned while the source could not read the whole desired set', async () => {
  const r = await rig([periodicTask('a')]);
  r.store.put('ns/unread', 'uid-unread', runState(0));
  r.source.isComplete = false;
  r.leadership.win();
  await clock.advance(100);
  assert.ok(r.store.keys.has('ns/unread'));
  assert.ok(r.store.keys.has('ns/a'));
  await r.operator.stop();
});

test('leadership lost before the source synced: no leader work is ever done', async () => {
  const r = await rig([periodicTask('a')]);
  r.source.isSynced = false;
  r.leadership.win();
  await clock.advance(300);
  r.leadership.lose();
  r.source.isSynced = true;
  await clock.advance(5000, 100);
  assert.deepEqual(r.store.calls, [{ method: 'loadOwned' }], 'the store was read, never written');
  assert.equal(r.lost.length, 1);
  await r.operator.stop();
});

test('losing leadership stops the beat at once and calls onLeadershipLost; changes are no longer reconciled', async () => {
  const r = await rig([periodicTask('a')]);
  r.leadership.win();
  await clock.advance(2000);
  const published = r.dispatcher.published.length;
  assert.equal(published, 2);
  r.leadership.lose();
  assert.equal(r.lost.length, 1);
  assert.equal(r.operator.leading, false);
  r.source.set([periodicTask('a'), periodicTask('b')]);
  await clock.advance(5000, 100);
  assert.equal(r.dispatcher.published.length, published, 'nothing dispatched after leadership is lost');
  assert.equal(r.reconciler.passes.length, 1, 'no pass after leadership is lost');
  assert.equal(r.store.keys.has('ns/b'), false);
  await r.operator.stop();
});

test('change signals during a pass are coalesced into one more pass over the latest set', async () => {
  const r = await rig([periodicTask('a')]);
  r.leadership.win();
  await clock.advance(10);
  assert.equal(r.reconciler.passes.length, 1);
  r.reconciler.hold();
  r.source.set([periodicTask('a'), periodicTask('b')]);
  await clock.advance(10);
  for (let i = 0; i < 5; i += 1) r.source.set([periodicTask('a'), periodicTask('b'), periodicTask('c')]);
  await clock.advance(10);
  assert.equal(r.reconciler.passes.length, 2, 'one pass at a time');
  r.reconciler.release();
  await clock.advance(10);
  assert.deepEqual(
    r.reconciler.passes.map((p) => p.names),
    [['a'], ['a', 'b'], ['a', 'b', 'c']],
  );
  assert.deepEqual(
    r.reconciler.passes.map((p) => p.verify),
    [true, false, false],
  );
  assert.ok(r.store.keys.has('ns/c'));
  await clock.advance(1000);
  assert.equal(r.reconciler.passes.length, 3, 'no pass without a change');
  await r.operator.stop();
});

test('a signal naming tasks reconciles only those, from their current objects; the rest costs nothing', async () => {
  const r = await rig([periodicTask('a'), periodicTask('b')]);
  r.leadership.win();
  await clock.advance(10);
  assert.equal(r.reconciler.passes.length, 1);
  const upserts = (key: string) => r.store.calls.filter((c) => c.method === 'upsert' && c.taskKey === key);
  // The signal names b and c (keys only): their objects are read from the source.
  r.source.change([periodicTask('a'), periodicTask('b', { args: [2] }), periodicTask('c')], ['ns/b', 'ns/c']);
  await clock.advance(10);
  assert.deepEqual(
    r.reconciler.keyed.map((p) => [p.keys.join(), p.verify]),
    [['ns/b,ns/c', false]],
  );
  assert.equal(r.reconciler.passes.length, 1, 'no full pass for a change the source could name');
  assert.equal(upserts('ns/a').length, 1, 'an unchanged task is not written again');
  assert.match(r.store.keys.get('ns/b')!.head, /"args":\[2\]/, 'the edit is written');
  assert.ok(r.store.keys.has('ns/c'));
  // A task the source no longer holds is removed by the same kind of pass.
  r.source.change([periodicTask('a'), periodicTask('c')], ['ns/b']);
  await clock.advance(10);
  assert.equal(r.store.keys.has('ns/b'), false);
  assert.equal(r.beat.get('ns/b'), undefined);
  assert.ok(r.beat.get('ns/a') && r.beat.get('ns/c'));
  assert.equal(r.reconciler.passes.length, 1);
  await r.operator.stop();
});

test('a removal that fails is retried for that task alone', async () => {
  const r = await rig([periodicTask('a'), periodicTask('b')]);
  r.leadership.win();
  await clock.advance(10);
  r.store.failNext('delete', new Error('connection lost'), 2);
  r.source.change([periodicTask('a')], ['ns/b']);
  await clock.advanceUntil('the key is deleted', () => !r.store.keys.has('ns/b'), 10_000);
  assert.deepEqual(
    r.reconciler.retries.map((p) => p.names.join()),
    ['b', 'b'],
    'the failed delete is retried alone',
  );
  assert.equal(r.reconciler.passes.length, 1, 'no full pass for one failed delete');
  assert.equal(r.beat.get('ns/b'), undefined, 'not dispatched while its delete is retried');
  assert.ok(r.store.keys.has('ns/a'));
  await r.operator.stop();
});

test('a task that fails is retried alone, with growing delays, until it succeeds', async () => {
  const r = await rig([periodicTask('a'), periodicTask('b')]);
  r.store.failNext('upsert', new Error('LOADING Redis is loading the dataset'), 1);
  r.leadership.win();
  await clock.advance(10);
  const failed = r.store.keys.has('ns/a') ? 'b' : 'a';
  const healthy = failed === 'a' ? 'b' : 'a';
  assert.equal(r.store.keys.has(`ns/${failed}`), false);
  assert.equal(r.status.merged('ns', failed).ready?.reason, 'StoreUnavailable');
  r.store.failNext('upsert', new Error('LOADING Redis is loading the dataset'), 2);
  const start = r.reconciler.passes[0]!.at;
  await clock.advanceUntil('the key is written', () => r.store.keys.has(`ns/${failed}`), 10_000);
  assert.deepEqual(
    r.reconciler.retries.map((p) => [p.at - start, p.names.join()]),
    [
      [500, failed],
      [1500, failed],
      [3500, failed],
    ],
    'retried after 0.5 s, 1 s, 2 s, alone',
  );
  assert.equal(r.reconciler.passes.length, 1, 'no full pass for one failing task');
  const upserts = r.store.calls.filter((c) => c.method === 'upsert' && c.taskKey === `ns/${healthy}`);
  assert.equal(upserts.length, 1, 'the healthy task is not written again');
  await clock.advance(1000);
  assert.equal(r.dispatcher.publishedSlots(`ns/${failed}`).length, 1);
  await r.operator.stop();
});

test('a pass that throws (pruning failed) is retried', async () => {
  const r = await rig([periodicTask('a')]);
  r.store.put('ns/orphan', 'uid-orphan', runState(0));
  // The first prune (on becoming leader) and the one of the first pass both fail.
  r.store.failNext('listOwned', new Error('connection lost'), 2);
  r.leadership.win();
  await clock.advance(10);
  assert.ok(r.store.keys.has('ns/orphan'));
  assert.equal(r.reconciler.passes.length, 1);
  await clock.advance(500);
  assert.equal(r.reconciler.passes.length, 2);
  assert.equal(r.store.keys.has('ns/orphan'), false, 'pruned by the retried pass');
  await r.operator.stop();
});

test('every resyncMs a verifying pass runs', async () => {
  const r = await rig([periodicTask('a', { enabled: false })], 10_000);
  r.leadership.win();
  await clock.advance(10);
  // A key flushed from Redis while the task needs no dispatch: only the resync notices.
  r.store.keys.delete('ns/a');
  await clock.advance(9_980, 100);
  assert.equal(r.store.keys.has('ns/a'), false);
  await clock.advance(100);
  assert.ok(r.store.keys.has('ns/a'), 're-created by the resync');
  assert.deepEqual(
    r.reconciler.passes.map((p) => p.verify),
    [true, true],
  );
  await r.operator.stop();
});

test('stop: the beat first, then the pass in flight, the status flush, leadership release and the source', async () => {
  const r = await rig([periodicTask('a')]);
  const journal: string[] = [];
  r.beat.onStop = () => journal.push('beat stop');
  r.reconciler.onPassEnd = () => journal.push('pass end');
  r.status.onFlush = () => journal.push('status flush');
  r.leadership.onRelease = () => journal.push('leadership release');
  r.source.onStop = () => journal.push('source stop');
  r.leadership.win();
  await clock.advance(10);
  journal.length = 0;
  r.reconciler.hold();
  r.source.set([periodicTask('a'), periodicTask('b')]);
  await clock.advance(10);
  const stopping = r.operator.stop();
  await clock.advance(100);
  assert.deepEqual(journal, ['beat stop'], 'waits for the pass in flight');
  r.reconciler.release();
  await stopping;
  assert.deepEqual(journal, ['beat stop', 'pass end', 'status flush', 'leadership release', 'source stop']);
  assert.equal(r.leadership.released, true);
  const published = r.dispatcher.published.length;
  await clock.advance(5000, 100);
  assert.equal(r.dispatcher.published.length, published, 'nothing dispatched after stop');
});

test('leadership lost during the first pass: the beat is not started afterwards', async () => {
  const r = await rig([periodicTask('a')]);
  r.reconciler.hold();
  r.leadership.win();
  await clock.advance(10);
  r.leadership.lose();
  assert.equal(r.lost.length, 1);
  r.reconciler.release();
  await clock.advance(5000, 100);
  assert.deepEqual(r.dispatcher.published, [], 'a beat started after leadership was lost dispatches');
  await r.operator.stop();
});
