// The Lease epoch that fences a leader's writes (advance-epoch-1.lua through RedisEpochRecord), and its use
// as the store's fence key, against a private real Redis.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leaseEpochKey, RedisEpochRecord } from '../../../src/leadership/lease-epoch.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis();

let counter = 0;
function epochKey(): string {
  counter += 1;
  return leaseEpochKey(`test${counter}:`, `ns-${counter}/celerybeat-operator`);
}

test('a replica that takes the Lease advances the epoch; the previous leader finds it stale', async () => {
  const key = epochKey();
  const record = new RedisEpochRecord(local.redis, key);
  assert.deepEqual(await record.advance(3, 'lease-a', 'take'), { held: true, token: '3 lease-a' });
  assert.deepEqual(await record.advance(3, 'lease-a', 'keep'), { held: true, token: '3 lease-a' });
  assert.deepEqual(await record.advance(4, 'lease-a', 'take'), { held: true, token: '4 lease-a' });
  assert.deepEqual(await record.advance(3, 'lease-a', 'keep'), { held: false, stored: '4 lease-a' });
  // A replica that took the Lease before the current leader did never takes the epoch back.
  assert.deepEqual(await record.advance(3, 'lease-a', 'take'), { held: false, stored: '4 lease-a' });
  assert.equal(await local.redis.get(key), '4 lease-a');
});

test('an epoch Redis lost is written back by its leader, and a lower one of the same Lease is replaced', async () => {
  const key = epochKey();
  const record = new RedisEpochRecord(local.redis, key);
  await record.advance(7, 'lease-a', 'take');
  await local.redis.del(key);
  assert.deepEqual(await record.advance(7, 'lease-a', 'keep'), { held: true, token: '7 lease-a' });
  // A failover lost the successor's write: the old value is back, and the successor writes its own again.
  await local.redis.set(key, '6 lease-a');
  assert.deepEqual(await record.advance(7, 'lease-a', 'keep'), { held: true, token: '7 lease-a' });
});

test('a Lease created again replaces the epoch of the old one on take, never on keep', async () => {
  const key = epochKey();
  const record = new RedisEpochRecord(local.redis, key);
  await record.advance(12, 'old-lease', 'take');
  assert.deepEqual(await record.advance(0, 'new-lease', 'take'), { held: true, token: '0 new-lease' });
  // The leader of the old Lease, still running, cannot take it back: its epoch counts in another Lease.
  assert.deepEqual(await record.advance(12, 'old-lease', 'keep'), { held: false, stored: '0 new-lease' });
});

test('the epoch fences dispatch, upsert and delete of the store alike', async () => {
  const key = epochKey();
  const record = new RedisEpochRecord(local.redis, key);
  const store = new RedisTaskStore(local.redis, { keyPrefix: `test${counter}:`, fenceKey: key });
  const def = definition('fenced', { uid: 'uid-fenced', args: [] });
  const old = await record.advance(1, 'lease-a', 'take');
  assert.ok(old.held);
  await store.upsert(def, runState(1000), undefined, old.token);
  const successor = await record.advance(2, 'lease-a', 'take');
  assert.ok(successor.held);
  const item = { taskKey: 'ns/fenced', expected: runState(1000), next: ranState(2000, 1) };
  assert.deepEqual(await store.dispatch([item], old.token), [{ status: 'fenced' }]);
  await assert.rejects(store.upsert(def, runState(1000), undefined, old.token), /leader fence/);
  await assert.rejects(store.delete('ns/fenced', def.uid, old.token), /leader fence/);
  assert.deepEqual(await store.dispatch([item], successor.token), [{ status: 'ok' }]);
  assert.equal(await store.delete('ns/fenced', def.uid, successor.token), true);
});
