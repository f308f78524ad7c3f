// Durable claims in `auto` mode (claimDurably with onlyWithReplicas), against a real master and a real replica:
// when a claim waits for a replica (WAIT), counted by the master's own command statistics.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, runState } from '../../support/fakes/definitions.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

let master: RedisServer;
let replica: RedisServer;
let redis: Redis;
let replicaClient: Redis;

before(async () => {
  master = await startRedisServer();
  replica = await startRedisServer();
  redis = new Redis(`${master.url}/0`);
  replicaClient = new Redis(`${replica.url}/0`);
});

after(async () => {
  redis.disconnect();
  replicaClient.disconnect();
  await replica.stop();
  await master.stop();
});

const def = definition('claimed');
const stateAt = (cursor: number) => runState(cursor, { totalRunCount: cursor });

async function waits(): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

async function connectedReplicas(): Promise<number> {
  return Number(/connected_slaves:(\d+)/.exec(await redis.info('replication'))?.[1] ?? -1);
}

test('auto: no WAIT on a master that never had a replica; a master whose replica left waits out the grace', async () => {
  const store = new RedisTaskStore(redis, {
    keyPrefix: 'durable:',
    durableClaims: { replicas: 1, timeoutMs: 100, onlyWithReplicas: true, replicaGoneGraceMs: 4000 },
  });
  await store.upsert(def, stateAt(0));
  let cursor = 0;
  // One claim of the next slot: what it says, and whether it waited for a replica.
  const claim = async (): Promise<{ durable: boolean; waited: boolean }> => {
    const before = await waits();
    const { results, durable } = await store.claimDurably([
      { taskKey: 'ns/claimed', expected: stateAt(cursor), next: stateAt(cursor + 1) },
    ]);
    assert.equal(results[0]!.status, 'ok', `the claim of slot ${cursor + 1}`);
    cursor += 1;
    if (!durable) {
      // Not durable: given back, as the dispatcher does.
      await store.settle([{ taskKey: 'ns/claimed', claimed: stateAt(cursor), settled: stateAt(cursor - 1) }]);
      cursor -= 1;
    }
    return { durable, waited: (await waits()) > before };
  };

  assert.deepEqual(await claim(), { durable: true, waited: false }, 'never a replica: nothing to wait for');

  await replicaClient.replicaof('127.0.0.1', String(master.port));
  await waitUntil(
    'the replica attached and in sync',
    async () => /state=online/.test(await redis.info('replication')),
    10_000,
  );
  // The count is re-read in the background (every 2 s): claims wait once it is known.
  await waitUntil('a claim that waited for the replica', async () => (await claim()).waited, 10_000);
  assert.deepEqual(await claim(), { durable: true, waited: true }, 'confirmed by the replica');
  assert.equal(await replicaClient.get('durable:ns/claimed'), await redis.get('durable:ns/claimed'));

  await replicaClient.replicaof('NO', 'ONE');
  await waitUntil('the replica detached', async () => (await connectedReplicas()) === 0, 10_000);
  const detached = Date.now();
  assert.deepEqual(await claim(), { durable: false, waited: true }, 'the replica is gone: not confirmed');
  // Without the grace the master's count (0) would let claims go unconfirmed now, while a replica of the
  // old master could still be promoted over it (a failover that is still settling).
  const next = await claim();
  if (Date.now() - detached < 3000)
    assert.deepEqual(next, { durable: false, waited: true }, 'still waiting within the grace');
  await waitUntil(
    'claims without WAIT once the grace has passed',
    async () => {
      const c = await claim();
      return c.durable && !c.waited;
    },
    15_000,
    200,
  );
  assert.ok(Date.now() - detached >= 2000, 'not before the grace (4 s from the last count with a replica)');
});
