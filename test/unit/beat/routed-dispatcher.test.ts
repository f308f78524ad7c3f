// Each run goes to its namespace's broker and nowhere else: the routed dispatcher over a registry of broker
// lines, each line a claim-then-publish dispatcher over the same store with a broker of its own (fakes of
// the project's interfaces). Lines open on first use, once per URL; one that cannot open fails its slots
// alone (its URL shown without the password) and is tried again; a line no policy names any more closes
// once the dispatches using it have ended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BrokerLine, BrokerRegistry } from '../../../src/beat/broker-registry.ts';
import { RoutedDispatcher } from '../../../src/beat/routed-dispatcher.ts';
import { ClaimThenPublishDispatcher } from '../../../src/beat/slot-dispatcher.ts';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import type {
  Broker,
  BrokerRoute,
  OutgoingMessage,
  PlannedSlot,
  PublishOutcome,
  SlotDispatcher,
} from '../../../src/contracts.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { runState } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';

const logger = createLogger('silent');
const DEFAULT_URL = 'redis://shared:6379/0';
const TEAM_B = 'amqp://team-b:s3cret@rabbit:5672/team-b';

/** A broker that records what it took; with a gate, it answers only once the gate opens. */
function recordingBroker(url: string, gate?: Promise<void>): Broker & { sent: string[]; closed: boolean } {
  const broker = {
    url,
    sent: [] as string[],
    closed: false,
    publish: async (messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> => {
      await gate;
      for (const m of messages) broker.sent.push(String(m.message.headers.periodic_task_name));
      return messages.map(() => ({ ok: true }));
    },
    revoke: async () => {},
    close: async () => {
      broker.closed = true;
    },
  };
  return broker;
}

function slotOf(store: MemoryTaskStore, namespace: string, name: string, publish = true): PlannedSlot {
  const taskKey = `${namespace}/${name}`;
  store.put(taskKey, 'uid', runState(1000));
  const slot: PlannedSlot = {
    taskKey,
    expected: runState(1000),
    next: runState(2000, { totalRunCount: 1, lastTaskId: `id-${name}`, lastTaskSlot: 2000 }),
  };
  if (publish) {
    const options = { queue: 'celery', headers: {} };
    const message = buildTaskMessage({
      task: 'tasks.add',
      id: `id-${name}`,
      args: [],
      kwargs: {},
      options,
      scheduledAt: 2000,
      periodicTaskName: taskKey,
      namespace,
    });
    slot.publish = { message, options };
  }
  return slot;
}

interface Rig {
  store: MemoryTaskStore;
  brokers: Map<string, ReturnType<typeof recordingBroker>>;
  opened: string[];
  registry: BrokerRegistry;
  dispatcher: RoutedDispatcher;
  routes: Map<string, BrokerRoute>;
  failOpen: Set<string>;
  /** Brokers of these URLs opened from now on answer only once their gate opens. */
  gates: Map<string, Promise<void>>;
  /** Each revoke: the broker's URL, then the ids. */
  revoked: string[][];
}

function rig(): Rig {
  const store = new MemoryTaskStore();
  const brokers = new Map<string, ReturnType<typeof recordingBroker>>();
  const opened: string[] = [];
  const failOpen = new Set<string>();
  const gates = new Map<string, Promise<void>>();
  const revoked: string[][] = [];
  const lineTo = (url: string): BrokerLine => {
    const broker = recordingBroker(url, gates.get(url));
    brokers.set(url, broker);
    return {
      dispatcher: new ClaimThenPublishDispatcher(store, broker),
      revoke: async (ids) => {
        revoked.push([url, ...ids]);
      },
      close: () => broker.close(),
    };
  };
  const registry = new BrokerRegistry(
    DEFAULT_URL,
    lineTo(DEFAULT_URL),
    async (url) => {
      opened.push(url);
      if (failOpen.has(url)) throw new Error('connection refused');
      return lineTo(url);
    },
    logger,
  );
  const routes = new Map<string, BrokerRoute>();
  const dispatcher = new RoutedDispatcher({ routeOf: (ns) => routes.get(ns) ?? { ok: true } }, registry);
  return { store, brokers, opened, registry, dispatcher, routes, failOpen, gates, revoked };
}

test("team B's runs go to team B's broker only, team A's to the operator's own; the outcomes keep their order", async () => {
  const r = rig();
  r.routes.set('team-b', { ok: true, url: TEAM_B });
  const slots = [
    slotOf(r.store, 'team-a', 'one'),
    slotOf(r.store, 'team-b', 'two'),
    slotOf(r.store, 'team-a', 'three'),
    slotOf(r.store, 'team-b', 'four'),
  ];
  const outcomes = await r.dispatcher.dispatch(slots, '');
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['ok', 'ok', 'ok', 'ok'],
  );
  assert.deepEqual(r.brokers.get(DEFAULT_URL)?.sent, ['team-a/one', 'team-a/three']);
  assert.deepEqual(r.brokers.get(TEAM_B)?.sent, ['team-b/two', 'team-b/four']);
  for (const s of slots) assert.equal(r.store.stateOf(s.taskKey)?.totalRunCount, 1, `${s.taskKey} settled`);
});

test('a line opens once per URL, even for dispatches at the same time; the default URL is the default line', async () => {
  const r = rig();
  r.routes.set('team-b', { ok: true, url: TEAM_B });
  r.routes.set('team-c', { ok: true, url: DEFAULT_URL });
  await Promise.all([
    r.dispatcher.dispatch([slotOf(r.store, 'team-b', 'x')], ''),
    r.dispatcher.dispatch([slotOf(r.store, 'team-b', 'y')], ''),
    r.dispatcher.dispatch([slotOf(r.store, 'team-c', 'z')], ''),
  ]);
  assert.deepEqual(r.opened, [TEAM_B]);
  assert.deepEqual(r.brokers.get(TEAM_B)?.sent.sort(), ['team-b/x', 'team-b/y']);
  assert.deepEqual(r.brokers.get(DEFAULT_URL)?.sent, ['team-c/z']);
  assert.equal(r.registry.size, 1);
});

test('a namespace whose broker cannot be used: its runs fail with the reason, nothing claimed or sent anywhere', async () => {
  const r = rig();
  r.routes.set('team-b', {
    ok: false,
    reason: 'BrokerSecretUnavailable',
    message:
      'the broker of PeriodicTaskPolicy b (Secret b key url) cannot be used: Secret ops/b does not exist',
  });
  const [b, a] = await r.dispatcher.dispatch(
    [slotOf(r.store, 'team-b', 'held'), slotOf(r.store, 'team-a', 'runs')],
    '',
  );
  assert.equal(b?.status, 'publish-failed');
  assert.match((b as { error: Error }).error.message, /Secret ops\/b does not exist/);
  assert.equal(a?.status, 'ok');
  assert.deepEqual(r.store.stateOf('team-b/held'), runState(1000), 'not claimed');
  assert.deepEqual(r.brokers.get(DEFAULT_URL)?.sent, ['team-a/runs']);
  assert.deepEqual(r.opened, []);
});

test('a slot that publishes nothing needs no broker: it is recorded through the default line', async () => {
  const r = rig();
  r.routes.set('team-b', { ok: false, reason: 'BrokerSecretUnavailable', message: 'no Secret' });
  const [outcome] = await r.dispatcher.dispatch([slotOf(r.store, 'team-b', 'missed', false)], '');
  assert.equal(outcome?.status, 'ok');
  assert.equal(r.store.stateOf('team-b/missed')?.cursor, 2000);
});

test('a broker that cannot be reached fails its own runs alone, without its password, and is tried again', async () => {
  const r = rig();
  r.routes.set('team-b', { ok: true, url: TEAM_B });
  r.failOpen.add(TEAM_B);
  const [b, a] = await r.dispatcher.dispatch(
    [slotOf(r.store, 'team-b', 'one'), slotOf(r.store, 'team-a', 'two')],
    '',
  );
  assert.equal(b?.status, 'publish-failed');
  const message = (b as { error: Error }).error.message;
  assert.match(
    message,
    /broker amqp:\/\/team-b:\*\*\*@rabbit:5672\/team-b cannot be reached: connection refused/,
  );
  assert.ok(!message.includes('s3cret'));
  assert.equal(a?.status, 'ok');
  assert.equal(r.registry.size, 0, 'a line that failed to open is not kept');
  r.failOpen.delete(TEAM_B);
  const [again] = await r.dispatcher.dispatch([slotOf(r.store, 'team-b', 'one')], '');
  assert.equal(again?.status, 'ok');
  assert.deepEqual(r.opened, [TEAM_B, TEAM_B]);
});

test('a line no policy names any more closes once the dispatch using it has ended; a kept one stays open', async () => {
  const r = rig();
  const TEAM_C = 'redis://team-c:6379/3';
  r.routes.set('team-b', { ok: true, url: TEAM_B });
  r.routes.set('team-c', { ok: true, url: TEAM_C });
  await r.dispatcher.dispatch([slotOf(r.store, 'team-c', 'c')], '');
  // Team B's broker answers only when let go: the dispatch is under way when B stops being named.
  let answer: () => void = () => {};
  r.gates.set(
    TEAM_B,
    new Promise<void>((resolve) => {
      answer = resolve;
    }),
  );
  const publishing = r.dispatcher.dispatch([slotOf(r.store, 'team-b', 'b')], '');
  await waitFor(() => r.brokers.has(TEAM_B));
  const b = r.brokers.get(TEAM_B)!;
  r.registry.retain(new Set([TEAM_C]));
  await settle();
  assert.equal(b.closed, false, 'not closed under a dispatch');
  answer();
  const [outcome] = await publishing;
  assert.equal(outcome?.status, 'ok');
  assert.deepEqual(b.sent, ['team-b/b']);
  await waitFor(() => b.closed);
  assert.equal(r.brokers.get(TEAM_C)?.closed, false);
  assert.equal(r.brokers.get(DEFAULT_URL)?.closed, false, 'the default line is never retired');
  assert.equal(r.registry.size, 1);
  await r.registry.close();
  assert.equal(r.brokers.get(TEAM_C)?.closed, true);
  assert.equal(r.brokers.get(DEFAULT_URL)?.closed, true);
});

test('a store failure on one line fails the batch, after the other lines have settled their runs', async () => {
  const store = new MemoryTaskStore();
  const broken: SlotDispatcher = {
    dispatch: async () => {
      throw new Error('Redis: OOM');
    },
  };
  const sent = recordingBroker(DEFAULT_URL);
  const registry = new BrokerRegistry(
    DEFAULT_URL,
    {
      dispatcher: new ClaimThenPublishDispatcher(store, sent),
      revoke: async () => {},
      close: async () => {},
    },
    async () => ({ dispatcher: broken, revoke: async () => {}, close: async () => {} }),
    logger,
  );
  const dispatcher = new RoutedDispatcher(
    { routeOf: (ns) => (ns === 'team-b' ? { ok: true, url: TEAM_B } : { ok: true }) },
    registry,
  );
  await assert.rejects(
    dispatcher.dispatch([slotOf(store, 'team-b', 'b'), slotOf(store, 'team-a', 'a')], ''),
    /Redis: OOM/,
  );
  assert.deepEqual(sent.sent, ['team-a/a']);
  assert.equal(store.stateOf('team-a/a')?.totalRunCount, 1, 'the run that went out is recorded');
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("Replace's revoke goes to the namespace's broker, where its workers listen", async () => {
  const r = rig();
  r.routes.set('team-b', { ok: true, url: TEAM_B });
  r.routes.set('team-c', { ok: false, reason: 'BrokerSecretUnavailable', message: 'no Secret team-c' });
  await r.dispatcher.revoke('team-b', ['id-1']);
  await r.dispatcher.revoke('team-a', ['id-2']);
  await assert.rejects(r.dispatcher.revoke('team-c', ['id-3']), /no Secret team-c/);
  assert.deepEqual(r.revoked, [
    [TEAM_B, 'id-1'],
    [DEFAULT_URL, 'id-2'],
  ]);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i += 1) await settle();
  assert.ok(condition(), 'condition never held');
}
