// Manual runs (run-now, backfill) through the store's dispatch script and the settle scripts, against a
// private real Redis: a claim identity of its own in the task's manual-run record, fenced like a slot, pushed
// with its claim in one step on the same server; a claim under way settles as sent, given back, or unknown
// (counted in the run-state tail, in the same step).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis(3);

let counter = 0;
function fixture() {
  counter += 1;
  const def = definition(`task-${counter}`, { uid: `uid-${counter}`, args: [] });
  const store = new RedisTaskStore(local.redis, {
    keyPrefix: `manual${counter}:`,
    fenceKey: `manual-lock${counter}`,
    brokerDb: 3,
  });
  const key = `ns/task-${counter}`;
  const record = `celerybeat-operator:manual:manual${counter}:${key}`;
  return { def, key, store, record, lock: `manual-lock${counter}` };
}

test('a manual claim with a push is claimed as sent and pushed in one step, once; the cursor does not move', async () => {
  const { def, key, store, record } = fixture();
  await store.upsert(def, runState(1000));
  const push = { listKey: `manual-queue-${counter}`, envelope: '{"m":"run-now"}' };
  const item = { taskKey: key, claim: 'run-now:tok', since: 5000, push };
  assert.deepEqual(await store.dispatch([item]), [{ status: 'ok' }]);
  assert.deepEqual(await store.dispatch([item]), [{ status: 'claimed-before', claim: { state: 'sent' } }]);
  assert.equal(await local.broker.llen(push.listKey), 1, 'pushed once');
  assert.equal(await local.redis.hget(record, 'claim:run-now:tok'), 'sent');
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: runState(1000) });
});

test('a manual claim and a scheduled slot of the same task in one call do not collide', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, runState(1000));
  const results = await store.dispatch([
    { taskKey: key, expected: runState(1000), next: ranState(2000, 1) },
    { taskKey: key, claim: 'slot:2000', since: 5000 },
  ]);
  assert.deepEqual(results, [{ status: 'ok' }, { status: 'ok' }]);
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: ranState(2000, 1) });
});

test('a manual claim is fenced by the same leader token as a slot', async () => {
  const { key, store, record, lock } = fixture();
  await local.redis.set(lock, 'new-leader');
  const item = { taskKey: key, claim: 'run-now:fenced', since: 5000 };
  assert.deepEqual(await store.dispatch([item], 'old-leader'), [{ status: 'fenced' }]);
  assert.equal(await local.redis.hexists(record, 'claim:run-now:fenced'), 0, 'nothing claimed');
  assert.deepEqual(await store.dispatch([item], 'new-leader'), [{ status: 'ok' }]);
});

test('a claim under way settles once: as sent, given back (claimable again), or unknown with the count in the tail', async () => {
  const { def, key, store, record } = fixture();
  await store.upsert(def, runState(1000));
  const claim = (c: string) => store.dispatch([{ taskKey: key, claim: c, since: 7000 }]);
  await claim('a');
  assert.deepEqual(await store.dispatch([{ taskKey: key, claim: 'a', since: 8000 }]), [
    { status: 'claimed-before', claim: { state: 'publishing', since: 7000 } },
  ]);
  assert.deepEqual(await store.settleManual(key, 'a', 6999, 'sent'), { settled: false }, 'another claim');
  assert.deepEqual(await store.settleManual(key, 'a', 7000, 'sent'), { settled: true });
  assert.equal(await local.redis.hget(record, 'claim:a'), 'sent');

  await claim('b');
  assert.deepEqual(await store.settleManual(key, 'b', 7000, 'released'), { settled: true });
  assert.deepEqual(await claim('b'), [{ status: 'ok' }], 'given back: claimable again');

  await claim('c');
  const first = await store.settleManual(key, 'c', 7000, 'unknown');
  assert.deepEqual(first, { settled: true, state: { ...runState(1000), unknownRunCount: 1 } });
  assert.deepEqual(await store.settleManual(key, 'c', 7000, 'unknown'), { settled: false }, 'counted once');
  await claim('d');
  const second = await store.settleManual(key, 'd', 7000, 'unknown');
  assert.equal(second.state?.unknownRunCount, 2);
  assert.deepEqual(await claim('c'), [{ status: 'claimed-before', claim: { state: 'unknown' } }]);
  const value = JSON.parse((await local.redis.get(store.redisKey(key)))!);
  assert.equal(value.unknown_run_count, 2, 'readable by any reader of the key');
  assert.deepEqual(await store.upsert(def, runState(0)), {
    status: 'unchanged',
    state: { ...runState(1000), unknownRunCount: 2 },
  });
});

test('a claim from before claims had states (the time it was claimed) reads as sent', async () => {
  const { key, store, record } = fixture();
  await local.redis.hset(record, 'claim:run-now:old', '1765000000000');
  assert.deepEqual(await store.dispatch([{ taskKey: key, claim: 'run-now:old', since: 1 }]), [
    { status: 'claimed-before', claim: { state: 'sent' } },
  ]);
});

test('a scheduled claim under way and its settling keep the tail readable: publishing, then the run or unknown', async () => {
  const { def, key, store } = fixture();
  await store.upsert(def, runState(1000));
  const claimed = { ...runState(2000), publishing: { taskId: 'id-2000', since: 1500 } };
  assert.deepEqual(await store.dispatch([{ taskKey: key, expected: runState(1000), next: claimed }]), [
    { status: 'ok' },
  ]);
  const value = JSON.parse((await local.redis.get(store.redisKey(key)))!);
  assert.deepEqual(value.publishing, { task_id: 'id-2000', since: 1500 });
  assert.equal(value.total_run_count, 0, 'not a run until confirmed');
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: claimed });
  const unknown = { ...runState(2000), unknownRunCount: 1 };
  assert.deepEqual(await store.settle([{ taskKey: key, claimed, settled: unknown }]), [true]);
  assert.deepEqual(await store.upsert(def, runState(0)), { status: 'unchanged', state: unknown });
});
