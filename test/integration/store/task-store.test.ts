// The Lua scripts, through TaskStore, against a private real Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import type { RunState } from '../../../src/contracts.ts';
import { RedisLeaderLock } from '../../../src/leadership/redis-leader-lock.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { waitUntil } from '../../support/ports.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis(3);

let counter = 0;
function fixture(): { def: TaskDefinition; key: string; store: RedisTaskStore } {
  counter += 1;
  const def = definition(`task-${counter}`, { uid: `uid-${counter}`, args: [] });
  const store = new RedisTaskStore(local.redis, {
    keyPrefix: `test${counter}:`,
    fenceKey: `lock${counter}`,
    brokerDb: 3,
  });
  return { def, key: `ns/task-${counter}`, store };
}

test('upsert creates, keeps the stored run state on update, and reports unchanged definitions', async () => {
  const { def, key, store } = fixture();
  const created = await store.upsert(def, runState(1000));
  assert.deepEqual(created, { status: 'created', state: runState(1000) });
  assert.deepEqual(
    await store.dispatch([{ taskKey: key, expected: runState(1000), next: ranState(2000, 1) }]),
    [{ status: 'ok' }],
  );
  assert.deepEqual(await store.upsert(def, runState(1000)), {
    status: 'unchanged',
    state: ranState(2000, 1),
  });
  const updated = await store.upsert({ ...def, args: [1, 2] }, runState(1000));
  assert.deepEqual(updated, { status: 'updated', state: ranState(2000, 1) });
  const value = JSON.parse((await local.redis.get(store.redisKey(key)))!);
  assert.deepEqual(value.args, [1, 2]);
  assert.equal(value.total_run_count, 1);
});

test('a key without the owner marker, or of another owner, is never touched', async () => {
  const { def, key, store } = fixture();
  const foreign = JSON.stringify({ name: 'mine', task: 'tasks.other', enabled: true });
  await local.redis.set(store.redisKey(key), foreign);
  assert.deepEqual(await store.upsert(def, runState(1000)), { status: 'foreign' });
  assert.equal(await store.delete(key, ''), false);
  assert.equal(await local.redis.get(store.redisKey(key)), foreign);
  await local.redis.del(store.redisKey(key));
  await store.upsert(def, runState(1000));
  assert.deepEqual(await store.upsert({ ...def, uid: 'someone-else' }, runState(1000)), {
    status: 'foreign',
  });
  assert.equal(await store.delete(key, 'someone-else'), false);
  assert.equal(await store.delete(key, def.uid), true);
  assert.equal(await local.redis.exists(store.redisKey(key)), 0);
});

test('dispatch claims a slot once, pushes into the broker database, and reports conflicts', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, runState(1000));
  const push = { listKey: `queue-${counter}`, envelope: '{"m":1}' };
  const first = await store.dispatch([
    { taskKey: key, expected: runState(1000), next: ranState(2000, 1), push },
  ]);
  assert.deepEqual(first, [{ status: 'ok' }]);
  // A second dispatcher with the same (now stale) view: the slot is not pushed again.
  const second = await store.dispatch([
    { taskKey: key, expected: runState(1000), next: ranState(2000, 1), push },
  ]);
  assert.deepEqual(second, [{ status: 'conflict', stored: ranState(2000, 1) }]);
  assert.deepEqual(await local.broker.lrange(push.listKey, 0, -1), ['{"m":1}']);
  assert.equal(await local.redis.exists(push.listKey), 0, 'nothing is pushed into the store database');
});

test('dispatch of a vanished key reports it missing and pushes nothing', async () => {
  const { key, store } = fixture();
  const push = { listKey: `queue-${counter}`, envelope: '{"m":1}' };
  assert.deepEqual(
    await store.dispatch([{ taskKey: key, expected: runState(1), next: ranState(2, 1), push }]),
    [{ status: 'missing' }],
  );
  assert.equal(await local.broker.llen(push.listKey), 0);
});

test('a dispatch with a stale leader token is fenced and changes nothing', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, runState(1000));
  await local.redis.set(`lock${counter}`, 'new-leader');
  const push = { listKey: `queue-${counter}`, envelope: '{"m":1}' };
  const items = [{ taskKey: key, expected: runState(1000), next: ranState(2000, 1), push }];
  assert.deepEqual(await store.dispatch(items, 'old-leader'), [{ status: 'fenced' }]);
  assert.equal(await local.broker.llen(push.listKey), 0);
  assert.deepEqual(await store.dispatch(items, 'new-leader'), [{ status: 'ok' }]);
});

test('an upsert or a delete with a stale fence token is refused and changes nothing', async () => {
  const { def, key, store } = fixture();
  await local.redis.set(`lock${counter}`, 'new-leader');
  await assert.rejects(
    store.upsert(def, runState(1000), undefined, 'old-leader'),
    /refused by the leader fence/,
  );
  assert.equal(await local.redis.exists(store.redisKey(key)), 0, 'a deleted key is not re-created');
  assert.equal((await store.upsert(def, runState(1000), undefined, 'new-leader')).status, 'created');
  await assert.rejects(store.delete(key, def.uid, 'old-leader'), /refused by the leader fence/);
  assert.equal(await local.redis.exists(store.redisKey(key)), 1);
  assert.equal(await store.delete(key, def.uid, 'new-leader'), true);
  assert.equal(await local.redis.exists(store.redisKey(key)), 0);
});

test('settle replaces a claim (here: gives it back) only while the claim is still the stored state', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, runState(1000));
  await store.dispatch([{ taskKey: key, expected: runState(1000), next: ranState(2000, 1) }]);
  const giveBack = { taskKey: key, claimed: ranState(2000, 1), settled: runState(1000) };
  assert.deepEqual(await store.settle([giveBack]), [true]);
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: runState(1000) });
  await store.dispatch([{ taskKey: key, expected: runState(1000), next: ranState(3000, 1) }]);
  assert.deepEqual(await store.settle([giveBack]), [false]);
});

test('settling many claims in one call: each is replaced only where it is still the stored state', async () => {
  const { def, key, store } = fixture();
  const other = { ...def, name: `${def.name}-b`, uid: `${def.uid}-b` };
  const otherKey = `${key}-b`;
  await store.upsert(def, runState(1000));
  await store.upsert(other, runState(1000));
  await store.dispatch([
    { taskKey: key, expected: runState(1000), next: ranState(2000, 1) },
    { taskKey: otherKey, expected: runState(1000), next: ranState(3000, 1) },
  ]);
  const results = await store.settle([
    { taskKey: key, claimed: ranState(2000, 1), settled: ranState(2000, 2) },
    { taskKey: otherKey, claimed: ranState(2000, 1), settled: runState(1000) },
  ]);
  assert.deepEqual(results, [true, false]);
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: ranState(2000, 2) });
  assert.deepEqual(await store.upsert(other, runState(0)), { status: 'unchanged', state: ranState(3000, 1) });
});

test('many items in one call are handled independently', async () => {
  const { def, store } = fixture();
  const keys: string[] = [];
  for (let i = 0; i < 450; i += 1) {
    const d = { ...def, name: `${def.name}-${i}` };
    keys.push(`ns/${d.name}`);
    await store.upsert(d, runState(1000));
  }
  const results = await store.dispatch(
    keys.map((taskKey, i) => ({
      taskKey,
      expected: runState(i === 7 ? 5 : 1000),
      next: ranState(2000, 1),
    })),
  );
  assert.equal(results.length, 450);
  assert.equal(results.filter((r) => r.status === 'ok').length, 449);
  assert.equal(results[7]!.status, 'conflict');
});

test('listOwned skips and reports unreadable keys and ignores foreign ones', async () => {
  const { def, store } = fixture();
  await store.upsert(def, runState(1000));
  await local.redis.set(store.redisKey('ns/broken'), '{oops');
  await local.redis.set(store.redisKey('ns/foreign'), '{"task":"x"}');
  const { owned, invalid } = await store.listOwned();
  assert.deepEqual(owned, [
    {
      taskKey: `ns/${def.name}`,
      owner: { namespace: 'ns', name: def.name, uid: def.uid, operator: `lock${counter}` },
    },
  ]);
  assert.equal(invalid.length, 1);
  assert.equal(invalid[0]!.redisKey, store.redisKey('ns/broken'));
  assert.match(invalid[0]!.reason, /value is not valid JSON/);
});

test('the redis leader lock admits one holder and hands over on release', async () => {
  const key = `leader-${counter}`;
  const a = new RedisLeaderLock(local.redis, { key, ttlMs: 1000, retryMs: 100 });
  const b = new RedisLeaderLock(local.redis, { key, ttlMs: 1000, retryMs: 100 });
  const events: string[] = [];
  a.run({ onStartedLeading: () => events.push('a+'), onStoppedLeading: () => events.push('a-') });
  await waitUntil('a leading', () => a.isLeader(), 5000, 10);
  b.run({ onStartedLeading: () => events.push('b+'), onStoppedLeading: () => events.push('b-') });
  // confirm() makes b try the lock now, so the assertion does not depend on its retry timer.
  assert.equal(await b.confirm(), false);
  assert.deepEqual(events, ['a+']);
  assert.equal(await local.redis.get(key), a.token);
  await a.release();
  await waitUntil('b leading', () => b.isLeader(), 5000, 10);
  assert.deepEqual(events, ['a+', 'b+']);
  assert.equal(await local.redis.get(key), b.token);
  await b.release();
  assert.equal(await local.redis.exists(key), 0);
});

/** A run state as a hand-written key gives it: no task id or slot of its own. */
const written = (cursor: number, totalRunCount = 0): RunState => ({
  cursor,
  totalRunCount,
  lastTaskId: null,
  lastTaskSlot: null,
  missedRunCount: 0,
  pausedRunCount: 0,
});

test('adopt moves a hand-written key run state into the tail, keeping every other member byte for byte', async () => {
  const { store } = fixture();
  const key = store.redisKey('hand');
  const text =
    '{"name": "hand",  "task": "tasks.add", "last_run_at": "2026-11-24T07:00:30", "n": 1.50, "total_run_count": 4, "kwargs": {}}';
  await local.redis.set(key, text, 'EX', 600);
  const adopted = await store.adopt('hand', written(1));
  assert.deepEqual(adopted, { status: 'adopted', state: written(Date.UTC(2026, 10, 24, 7, 0, 30), 4) });
  const raw = (await local.redis.get(key))!;
  assert.ok(
    raw.startsWith('{"name": "hand", "task": "tasks.add", "n": 1.50, "kwargs": {},"last_run_at":{"__type__"'),
    raw,
  );
  assert.ok((await local.redis.ttl(key)) > 500, 'the time to live the user set is kept');
  // Already in the adopted form: nothing is written; a dispatch on it works like on an owned key.
  const before = await local.redis.get(key);
  assert.deepEqual(await store.adopt('hand', written(1)), { ...adopted, status: 'unchanged' });
  assert.equal(await local.redis.get(key), before);
  const next = written(Date.UTC(2026, 10, 24, 7, 1, 0), 5);
  assert.deepEqual(
    await store.dispatch([
      { taskKey: 'hand', expected: adopted.status === 'adopted' ? adopted.state : written(0), next },
    ]),
    [{ status: 'ok' }],
  );
  assert.ok(
    (await local.redis.get(key))!.startsWith(
      '{"name": "hand", "task": "tasks.add", "n": 1.50, "kwargs": {},',
    ),
  );
});

test('adopt: a later known state wins over a stale one written back; no run state uses the fallback', async () => {
  const { store } = fixture();
  await local.redis.set(
    store.redisKey('stale'),
    '{"name": "s", "task": "t", "last_run_at": "2026-01-01T00:00:00", "total_run_count": 2}',
  );
  const known = written(Date.UTC(2026, 0, 1, 0, 0, 5), 3);
  assert.deepEqual(await store.adopt('stale', written(1), known), { status: 'adopted', state: known });
  await local.redis.set(store.redisKey('fresh'), '{"name": "f", "task": "t"}');
  assert.deepEqual(await store.adopt('fresh', written(7)), { status: 'adopted', state: written(7) });
});

test('adopt leaves owned, missing and concurrently written keys alone', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, written(1));
  assert.deepEqual(await store.adopt(key, written(1)), { status: 'foreign' });
  assert.deepEqual(await store.adopt('nothing-here', written(1)), { status: 'missing' });
  const hand = store.redisKey('raced');
  await local.redis.set(hand, '{"name": "r", "task": "t", "args": [2]}');
  assert.equal(
    await store.redis.cbAdoptKey(hand, '{"name": "r", "task": "t", "args": [1]}', '{"x": 1}'),
    'changed',
  );
  assert.equal(
    await local.redis.get(hand),
    '{"name": "r", "task": "t", "args": [2]}',
    'the newer write is kept',
  );
});
