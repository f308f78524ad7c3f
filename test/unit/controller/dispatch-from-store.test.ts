// A new leader dispatches the tasks in the store at once, before its source has read the resources: the
// real Operator, Reconciler and Beat over fakes of the store, dispatcher, source and leadership, under a
// simulated clock. An old leader's reconciler writes the keys on the same store; the new one starts with a
// source that is not synced yet.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { Operator } from '../../../src/controller/operator.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { StatusProjection } from '../../../src/controller/status-projection.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { periodicTask } from '../../support/fakes/definitions.ts';
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

/** The store, with calls of one method held until the test lets them through (a slow Redis, a long pass). */
class GatedStore extends MemoryTaskStore {
  #gates = new Map<string, Promise<void>>();

  /**
   * Holds `method` calls (for `taskKey` only, if given) until the returned function is called; `pages` holds
   * the store-load after its first page.
   */
  gate(method: 'listOwned' | 'upsert' | 'pages', taskKey?: string): () => void {
    let open: () => void = () => {};
    this.#gates.set(`${method} ${taskKey ?? '*'}`, new Promise<void>((resolve) => (open = resolve)));
    return () => {
      this.#gates.delete(`${method} ${taskKey ?? '*'}`);
      open();
    };
  }

  async #wait(method: string, taskKey: string): Promise<void> {
    await (this.#gates.get(`${method} ${taskKey}`) ?? this.#gates.get(`${method} *`));
  }

  override async *loadOwned(): ReturnType<MemoryTaskStore['loadOwned']> {
    let first = true;
    for await (const page of super.loadOwned()) {
      if (!first) await this.#wait('pages', '');
      first = false;
      yield page;
    }
  }

  override async listOwned(): ReturnType<MemoryTaskStore['listOwned']> {
    await this.#wait('listOwned', '');
    return super.listOwned();
  }

  override async upsert(
    ...args: Parameters<MemoryTaskStore['upsert']>
  ): ReturnType<MemoryTaskStore['upsert']> {
    await this.#wait('upsert', `${args[0].namespace}/${args[0].name}`);
    return super.upsert(...args);
  }
}

/** One replica's leader work on the shared store. */
function replica(store: MemoryTaskStore, objects: PeriodicTask[]) {
  const logger = createLogger('silent');
  const dispatcher = new ScriptedDispatcher({ store, clock: clock.now });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  let operator: Operator | undefined;
  const beat = new Beat({
    keyMissing: (key) => operator?.rewriteKey(key),
    dispatcher,
    listener: new StatusProjection(status).beatListener(events, () => {}),
    logger,
    clock: clock.now,
  });
  const reconciler = new Reconciler({
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
  operator = new Operator({
    source,
    reconciler,
    beat,
    leadership,
    status,
    logger,
    onLeadershipLost: () => {},
    random: () => 1,
  });
  return { operator, reconciler, beat, dispatcher, source, leadership, status };
}

/** An old leader that wrote and ran `objects` for a while, then died (its beat stops, its keys stay). */
async function oldLeader(store: MemoryTaskStore, objects: PeriodicTask[]): Promise<void> {
  const old = replica(store, objects);
  await old.operator.start();
  old.leadership.win();
  await clock.advance(2000);
  await old.beat.stop();
}

test('a new leader sends what is due from the store before its source has read anything', async () => {
  const store = new MemoryTaskStore();
  await oldLeader(store, [periodicTask('a'), periodicTask('b', { interval: { every: 1, period: 'hours' } })]);
  const ranBefore = store.stateOf('ns/a')?.totalRunCount ?? 0;
  await clock.advance(5000);

  const next = replica(store, [
    periodicTask('a'),
    periodicTask('b', { interval: { every: 1, period: 'hours' } }),
  ]);
  next.source.isSynced = false;
  await next.operator.start();
  next.leadership.win();
  await clock.advance(100);
  assert.equal(next.dispatcher.publishedSlots('ns/a').length, 1, 'the latest missed slot went out at once');
  await clock.advance(3000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/a').length, 4, 'and every slot since, on time');
  assert.equal(next.dispatcher.publishedSlots('ns/b').length, 0, 'what is not due is not sent');
  assert.deepEqual(
    store.calls.filter((c) => c.method === 'upsert' || c.method === 'delete').length,
    2,
    'nothing written but the old leader’s two keys: the store-load is no writer of definitions',
  );
  const slots = [...next.dispatcher.publishedSlots('ns/a')];
  assert.equal(new Set(slots).size, slots.length, 'each slot once');
  assert.equal(
    store.stateOf('ns/a')?.totalRunCount,
    ranBefore + 4,
    'the run state carries on from the store',
  );

  next.source.isSynced = true;
  next.source.signal();
  await clock.advance(1000);
  assert.ok(
    store.calls.some((c) => c.method === 'upsert' && c.taskKey === 'ns/a'),
    'then the reconciler writes',
  );
  assert.equal(next.dispatcher.publishedSlots('ns/a').length, 5, 'and the beat goes on without a gap');
  await next.operator.stop();
});

test('a task deleted while the source caught up never runs after the source says so; its key is deleted', async () => {
  const store = new GatedStore();
  await oldLeader(store, [periodicTask('kept'), periodicTask('gone')]);
  // The prune before the first pass takes long (a large keyspace): the deleted task must not wait for it.
  const prune = store.gate('listOwned');
  const next = replica(store, [periodicTask('kept')]);
  next.source.isSynced = false;
  await next.operator.start();
  next.leadership.win();
  await clock.advance(1500, 100);
  const sentBefore = next.dispatcher.publishedSlots('ns/gone').length;
  assert.ok(sentBefore >= 1, 'provisionally dispatched while its deletion had not reached this leader');

  // The source's first complete read arrives, without the deleted task: it leaves the beat at once, in the
  // same turn, before any pass has run.
  next.source.isSynced = true;
  next.source.signal();
  await clock.advance(3000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/gone').length, sentBefore, 'never sent after its deletion');
  prune();
  await clock.advance(1000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/gone').length, sentBefore);
  assert.equal(store.keys.has('ns/gone'), false, 'its key deleted as today');
  assert.ok(next.dispatcher.publishedSlots('ns/kept').length >= 4, 'the others run on');
  await next.operator.stop();
});

test('a task deleted while the first pass runs leaves the beat at the delete, and the pass never sets it again', async () => {
  const store = new GatedStore();
  await oldLeader(store, [periodicTask('a'), periodicTask('b')]);
  const next = replica(store, [periodicTask('b'), periodicTask('a')]);
  // The first pass is slow: its writes of both keys are under way when b is deleted.
  const writeB = store.gate('upsert', 'ns/b');
  const writeA = store.gate('upsert', 'ns/a');
  await next.operator.start();
  next.leadership.win();
  await clock.advance(1000, 100);
  const sent = next.dispatcher.publishedSlots('ns/b').length;
  assert.ok(sent >= 1, 'b runs from the store while the pass has not reached it');
  next.source.change([periodicTask('a')], ['ns/b']);
  await clock.advance(2000, 100);
  assert.equal(
    next.dispatcher.publishedSlots('ns/b').length,
    sent,
    'not sent after the delete reached the leader',
  );
  // b's write completes while the pass still waits for a's: the pass must not hand b to the beat again.
  writeB();
  await clock.advance(2000, 100);
  assert.equal(
    next.dispatcher.publishedSlots('ns/b').length,
    sent,
    'the pass under way did not set it again',
  );
  writeA();
  await clock.advance(2000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/b').length, sent);
  assert.equal(store.keys.has('ns/b'), false, 'its key deleted');
  assert.ok(next.dispatcher.publishedSlots('ns/a').length >= 6, 'the other task ran on');
  await next.operator.stop();
});

test('a task changed while the source caught up takes effect with the first pass', async () => {
  const store = new MemoryTaskStore();
  await oldLeader(store, [periodicTask('a')]);
  const next = replica(store, [periodicTask('a', { enabled: false })]);
  next.source.isSynced = false;
  await next.operator.start();
  next.leadership.win();
  await clock.advance(1000, 100);
  assert.ok(next.dispatcher.publishedSlots('ns/a').length >= 1, 'the stored definition ran meanwhile');
  next.source.isSynced = true;
  next.source.signal();
  await clock.advance(200, 100);
  const sent = next.dispatcher.publishedSlots('ns/a').length;
  await clock.advance(3000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/a').length, sent, 'disabled by the first pass');
  await next.operator.stop();
});

test('a key whose task is not dispatched (an invalid spec) is held: a new leader does not dispatch it', async () => {
  const store = new MemoryTaskStore();
  await oldLeader(store, [periodicTask('a')]);
  // The spec turned invalid while the old leader led: it stopped dispatching the task and held its key.
  const invalid = periodicTask('a', { timeZone: 'Europe/Atlantis' });
  const old = replica(store, [invalid]);
  await old.operator.start();
  old.leadership.win();
  await clock.advance(200, 100);
  await old.operator.stop();
  assert.equal(store.keys.get('ns/a')?.held, true);

  const next = replica(store, [invalid]);
  next.source.isSynced = false;
  await next.operator.start();
  next.leadership.win();
  await clock.advance(3000, 100);
  assert.equal(next.dispatcher.publishedSlots('ns/a').length, 0);
  await next.operator.stop();
});

test('the store is read a page at a time: the first page runs before the rest is read, and a task gone before its page is read never runs', async () => {
  const store = new GatedStore();
  await oldLeader(store, [periodicTask('a'), periodicTask('b'), periodicTask('c')]);
  assert.deepEqual([...store.keys.keys()], ['ns/a', 'ns/b', 'ns/c'], 'the pages come in this order');
  await clock.advance(5000);
  store.pageSize = 1;
  const rest = store.gate('pages');
  const next = replica(store, [periodicTask('a'), periodicTask('b')]);
  next.source.isSynced = false;
  await next.operator.start();
  next.leadership.win();
  await clock.advance(1100, 100);
  assert.ok(next.dispatcher.publishedSlots('ns/a').length >= 1, 'the first page ran at once');
  assert.equal(next.dispatcher.publishedSlots('ns/b').length, 0, 'the second page is not read yet');

  // The source's complete read arrives, without c, while the load still waits on its second page.
  next.source.isSynced = true;
  next.source.signal();
  rest();
  await clock.advance(3000, 100);
  assert.ok(next.dispatcher.publishedSlots('ns/b').length >= 1, 'the later page ran once it was read');
  assert.equal(next.dispatcher.publishedSlots('ns/c').length, 0, 'c was gone when its page came: never sent');
  assert.equal(store.keys.has('ns/c'), false, 'and its key is deleted by the first pass');
  await next.operator.stop();
});
