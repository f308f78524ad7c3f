// Operators sharing one Redis (docs/sharing-redis.md): upsert, delete and listOwned, through the real Lua
// scripts, touch only the keys of their own operator and scope; keys written before owners recorded an
// operator are taken over only by the operator they belong to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import { RedisTaskStore, type TaskStoreOptions } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis();

let counter = 0;
/** A task of the given namespace (the shared definition's uid is only unique within one). */
const taskIn = (namespace: string, name: string): TaskDefinition =>
  definition(name, { namespace, uid: `uid-${namespace}-${name}` });

/** A fresh prefix per test, so the tests share the server but not their keys. */
function prefix(): string {
  counter += 1;
  return `own${counter}:`;
}

const store = (options: TaskStoreOptions) => new RedisTaskStore(local.redis, options);

/** A key as a version that recorded no operator wrote it. */
async function writeLegacyKey(keyPrefix: string, def: TaskDefinition, runs: number): Promise<string> {
  const key = `${keyPrefix}${def.namespace}/${def.name}`;
  const value = JSON.parse((await local.redis.get(key)) ?? 'null') as Record<string, unknown> | null;
  const legacy = {
    ...(value ?? { name: `${def.namespace}/${def.name}`, task: def.task }),
    owner: { namespace: def.namespace, name: def.name, uid: def.uid },
    last_run_at: {
      __type__: 'datetime',
      year: 2026,
      month: 1,
      day: 1,
      hour: 0,
      minute: 0,
      second: 0,
      microsecond: 0,
    },
    total_run_count: runs,
    last_task_id: null,
    last_task_slot: null,
    missed_run_count: 0,
  };
  await local.redis.set(key, JSON.stringify(legacy));
  return key;
}

test("an operator with a prefix that begins another operator's prefix neither lists nor deletes its keys", async () => {
  const outer = prefix();
  const x = store({ keyPrefix: outer, operatorId: 'x' });
  const y = store({ keyPrefix: `${outer}y:`, operatorId: 'y' });
  const def = taskIn('ns', 'name');
  await y.upsert(def, runState(1000));
  const yKey = `${outer}y:ns/name`;
  // An older Y recorded no operator: the key must still not look like X's.
  await writeLegacyKey(`${outer}y:`, taskIn('ns', 'legacy'), 4);

  assert.deepEqual((await x.listOwned()).owned, []);
  assert.equal(await x.delete('y:ns/name', ''), false);
  assert.equal(await x.delete('y:ns/legacy', ''), false);
  assert.equal(await local.redis.exists(yKey, `${outer}y:ns/legacy`), 2);
  assert.deepEqual((await y.listOwned()).owned.map((o) => o.taskKey).sort(), ['ns/legacy', 'ns/name']);
});

test('operators with one prefix and disjoint namespaces keep to their own namespace', async () => {
  const shared = prefix();
  const a = store({ keyPrefix: shared, operatorId: 'ops-a/celerybeat-operator', namespace: 'a' });
  const b = store({ keyPrefix: shared, operatorId: 'ops-b/celerybeat-operator', namespace: 'b' });
  await a.upsert(taskIn('a', 'job'), runState(1000));
  await b.upsert(taskIn('b', 'job'), runState(1000));
  await writeLegacyKey(shared, taskIn('b', 'old'), 7);

  assert.deepEqual(
    (await a.listOwned()).owned.map((o) => o.taskKey),
    ['a/job'],
  );
  assert.deepEqual((await b.listOwned()).owned.map((o) => o.taskKey).sort(), ['b/job', 'b/old']);
  assert.equal(await a.delete('b/job', ''), false, "another operator's key");
  assert.equal(await a.delete('b/old', ''), false, 'a key without an operator, outside the namespace');
  assert.equal(await local.redis.exists(`${shared}b/job`, `${shared}b/old`), 2);
  assert.equal(await b.delete('b/old', ''), true, 'its own legacy key');
  assert.equal(await b.delete('b/job', 'uid-b-job'), true);
});

test('a key of the same resource written by another operator is foreign to upsert and delete', async () => {
  const shared = prefix();
  const x = store({ keyPrefix: shared, operatorId: 'x' });
  const y = store({ keyPrefix: shared, operatorId: 'y' });
  const def = taskIn('ns', 'twin');
  await x.upsert(def, runState(1000));
  await x.dispatch([{ taskKey: 'ns/twin', expected: runState(1000), next: ranState(2000, 1) }]);
  const before = await local.redis.get(`${shared}ns/twin`);

  assert.deepEqual(await y.upsert({ ...def, args: [1] }, runState(0)), { status: 'foreign' });
  assert.equal(await y.delete('ns/twin', def.uid), false);
  assert.equal(await local.redis.get(`${shared}ns/twin`), before, 'left exactly as it was');
  assert.equal(JSON.parse(before!).owner.operator, 'x');
});

test("upsert takes over its own resource's key without an operator, keeping the run state", async () => {
  const shared = prefix();
  const x = store({ keyPrefix: shared, operatorId: 'x', namespace: 'ns' });
  const def = taskIn('ns', 'old');
  const key = await writeLegacyKey(shared, def, 9);

  const result = await x.upsert(def, runState(0));
  assert.ok(result.status === 'updated', `updated, got ${result.status}`);
  assert.equal(result.state.totalRunCount, 9);
  const value = JSON.parse((await local.redis.get(key))!);
  assert.equal(value.owner.operator, 'x');
  assert.equal(value.total_run_count, 9);
  assert.deepEqual(await x.upsert(def, runState(0)), { status: 'unchanged', state: result.state });

  // A legacy key of another resource (another uid) stays foreign.
  const other = taskIn('ns', 'other');
  await writeLegacyKey(shared, other, 2);
  assert.deepEqual(await x.upsert({ ...other, uid: 'a-new-uid' }, runState(0)), { status: 'foreign' });
});

test("a key copied to another name is not the operator's, whatever its owner says", async () => {
  const shared = prefix();
  const x = store({ keyPrefix: shared, operatorId: 'x' });
  await x.upsert(taskIn('ns', 'real'), runState(1000));
  await local.redis.copy(`${shared}ns/real`, `${shared}ns/copy`);

  assert.deepEqual(
    (await x.listOwned()).owned.map((o) => o.taskKey),
    ['ns/real'],
  );
  assert.equal(await x.delete('ns/copy', ''), false);
  assert.equal(await local.redis.exists(`${shared}ns/copy`), 1);
});
