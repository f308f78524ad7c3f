// A queue that names an existing Redis key of another type fails that task alone: on the atomic path
// (dispatch-slots.lua, through RedisTaskStore) and on the claim-then-publish path (a separate Redis broker, and
// an exchange bound to several queues), its slot is neither claimed nor pushed, the error names the key and
// its type, and every neighbour in the same call is claimed and pushed. A refusal of the whole store (OOM)
// fails the whole call and keeps nothing, so it is reported as the store's problem, not each task's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { ClaimThenPublishDispatcher } from '../../../src/beat/slot-dispatcher.ts';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import { createRedisBroker } from '../../../src/celery/redis-transport.ts';
import type { Broker, PlannedSlot } from '../../../src/contracts.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

let server: RedisServer;
let brokerServer: RedisServer;
let redis: Redis;
let brokerRedis: Redis;

before(async () => {
  [server, brokerServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  redis = new Redis(`${server.url}/0`);
  brokerRedis = new Redis(`${brokerServer.url}/0`);
});

after(async () => {
  redis.disconnect();
  brokerRedis.disconnect();
  await Promise.all([server.stop(), brokerServer.stop()]);
});

/** Creates the tasks, all at cursor 1000. */
async function tasksOf(store: RedisTaskStore, names: string[]): Promise<void> {
  for (const name of names) await store.upsert(definition(name), runState(1000));
}

async function storedRuns(store: RedisTaskStore, name: string): Promise<number> {
  return JSON.parse((await redis.get(store.redisKey(`ns/${name}`)))!).total_run_count as number;
}

/** Keys of every type but list, as an application (or kombu) leaves them on a shared Redis. */
interface HostileKeys {
  hash: string;
  set: string;
  string: string;
}

async function hostileKeys(client: Redis, tag: string): Promise<HostileKeys> {
  const keys = { hash: `${tag}:app:settings`, set: `${tag}:_app.members`, string: `${tag}:app:flag` };
  await client.hset(keys.hash, 'theme', 'dark');
  await client.sadd(keys.set, 'a');
  await client.set(keys.string, 'on');
  return keys;
}

test('dispatch-slots: a push onto a hash, a set or a string fails that item alone, unclaimed', async () => {
  for (const brokerDb of [0, 3]) {
    const tag = `atomic-${brokerDb}`;
    const store = new RedisTaskStore(redis, { keyPrefix: `${tag}:meta:`, brokerDb });
    const broker = brokerDb === 0 ? redis : new Redis(`${server.url}/${brokerDb}`);
    try {
      const hostile = await hostileKeys(broker, tag);
      const ordinary = Array.from({ length: 30 }, (_, i) => `ok-${i}`);
      const types = Object.keys(hostile) as (keyof HostileKeys)[];
      await tasksOf(store, [...ordinary, ...types.map((t) => `bad-${t}`)]);
      const queue = `${tag}:celery`;
      // The hostile items sit in the middle of the chunk: before the fix, claims before them were written
      // and nothing after the failing push went out.
      const names = [...ordinary.slice(0, 15), ...types.map((t) => `bad-${t}`), ...ordinary.slice(15)];
      const listOf = (name: string) =>
        name.startsWith('bad-') ? hostile[name.slice(4) as keyof HostileKeys] : queue;
      const results = await store.dispatch(
        names.map((name) => ({
          taskKey: `ns/${name}`,
          expected: runState(1000),
          next: ranState(2000, 1),
          push: { listKey: listOf(name), envelope: `{"task":"${name}"}` },
        })),
      );
      for (const [i, name] of names.entries()) {
        const result = results[i]!;
        if (!name.startsWith('bad-')) {
          assert.deepEqual(result, { status: 'ok' }, name);
          assert.equal(await storedRuns(store, name), 1, `${name} claimed`);
          continue;
        }
        const type = name.slice(4);
        assert.equal(result.status, 'publish-failed', `${name}: ${JSON.stringify(result)}`);
        const { message } = (result as { error: Error }).error;
        assert.match(message, new RegExp(`"${listOf(name)}" is a Redis ${type}, not a list`));
        assert.match(message, /WRONGTYPE/);
        assert.equal(await storedRuns(store, name), 0, `${name} not claimed`);
      }
      const pushed = (await broker.lrange(queue, 0, -1)).map((e) => JSON.parse(e).task as string);
      assert.deepEqual(pushed.sort(), [...ordinary].sort(), 'every ordinary message pushed once');
      assert.equal(await broker.type(hostile.hash), 'hash');
      assert.equal(await broker.hget(hostile.hash, 'theme'), 'dark', 'the hash is left as it was');
      assert.equal(await broker.get(hostile.string), 'on');
      // The failed slot is retried as it was: the claim goes through once the queue is a list.
      await broker.del(hostile.hash);
      const retried = await store.dispatch([
        {
          taskKey: 'ns/bad-hash',
          expected: runState(1000),
          next: ranState(2000, 1),
          push: { listKey: hostile.hash, envelope: '{"task":"bad-hash"}' },
        },
      ]);
      assert.deepEqual(retried, [{ status: 'ok' }]);
      assert.equal(await broker.llen(hostile.hash), 1);
    } finally {
      if (broker !== redis) broker.disconnect();
    }
  }
});

function slot(name: string, options: { queue: string; exchange?: string; routingKey?: string }): PlannedSlot {
  return {
    taskKey: `ns/${name}`,
    expected: runState(1000),
    next: ranState(2000, 1),
    publish: {
      message: buildTaskMessage({
        task: 'tasks.add',
        id: `00000000-0000-4000-8000-${name.padStart(12, '0')}`,
        args: [],
        kwargs: {},
        options: { headers: {}, ...options },
        scheduledAt: Date.now(),
        periodicTaskName: `ns/${name}`,
        namespace: 'ns',
      }),
      options: { headers: {}, ...options },
    },
  };
}

async function claimThenPublish(
  tag: string,
  brokerUrl: string,
  run: (store: RedisTaskStore, broker: Broker) => Promise<void>,
): Promise<void> {
  const store = new RedisTaskStore(redis, { keyPrefix: `${tag}:meta:` });
  const broker = createRedisBroker(brokerUrl);
  try {
    await run(store, broker);
  } finally {
    await broker.close();
  }
}

test('claim-then-publish to a separate Redis broker: a non-list queue fails its task alone and is given back', async () => {
  await claimThenPublish('separate', `${brokerServer.url}/0`, async (store, broker) => {
    const hostile = await hostileKeys(brokerRedis, 'separate');
    const ordinary = Array.from({ length: 20 }, (_, i) => `${100 + i}`);
    const types = Object.keys(hostile) as (keyof HostileKeys)[];
    const bad = types.map((_, i) => `${900 + i}`);
    await tasksOf(store, [...ordinary, ...bad]);
    const slots = [
      ...ordinary.slice(0, 10).map((name) => slot(name, { queue: 'separate:celery' })),
      ...types.map((type, i) => slot(bad[i]!, { queue: hostile[type] })),
      ...ordinary.slice(10).map((name) => slot(name, { queue: 'separate:celery' })),
    ];
    const outcomes = await new ClaimThenPublishDispatcher(store, broker).dispatch(slots, '');
    for (const [i, s] of slots.entries()) {
      const name = s.taskKey.slice(3);
      const k = bad.indexOf(name);
      if (k < 0) {
        assert.deepEqual(outcomes[i], { status: 'ok' }, name);
        assert.equal(await storedRuns(store, name), 1);
        continue;
      }
      const outcome = outcomes[i]!;
      assert.equal(outcome.status, 'publish-failed', name);
      const { message: text } = (outcome as { error: Error }).error;
      assert.match(text, new RegExp(`"${hostile[types[k]!]}" is a Redis ${types[k]}, not a list`));
      assert.equal(await storedRuns(store, name), 0, `${name}: the claim was given back`);
    }
    assert.equal(await brokerRedis.llen('separate:celery'), ordinary.length);
    assert.equal(await brokerRedis.hget(hostile.hash, 'theme'), 'dark');
  });
});

test('claim-then-publish over an exchange bound to a list and a hash: nothing is pushed, neighbours go out', async () => {
  await claimThenPublish('fanout', `${server.url}/0`, async (store, broker) => {
    const hostile = await hostileKeys(redis, 'fanout');
    const SEP = '\x06\x16';
    // Two queues bound to one direct exchange with the same routing key: one a list, one an application hash.
    await redis.sadd(
      '_kombu.binding.fanout-exchange',
      `jobs${SEP}${SEP}fanout:jobs-a`,
      `jobs${SEP}${SEP}${hostile.hash}`,
    );
    await tasksOf(store, ['1', '2', '3']);
    const slots = [
      slot('1', { queue: 'fanout:plain' }),
      slot('2', { queue: 'jobs', exchange: 'fanout-exchange', routingKey: 'jobs' }),
      slot('3', { queue: 'fanout:plain' }),
    ];
    const outcomes = await new ClaimThenPublishDispatcher(store, broker).dispatch(slots, '');
    assert.deepEqual(outcomes[0], { status: 'ok' });
    assert.deepEqual(outcomes[2], { status: 'ok' });
    assert.equal(outcomes[1]!.status, 'publish-failed');
    assert.match(
      (outcomes[1] as { error: Error }).error.message,
      /"fanout:app:settings" is a Redis hash, not a list/,
    );
    assert.equal(
      await redis.llen('fanout:jobs-a'),
      0,
      'not delivered to one bound queue and refused by the other',
    );
    assert.equal(await redis.llen('fanout:plain'), 2);
    assert.equal(await storedRuns(store, '2'), 0, 'the claim was given back');
    assert.equal(await storedRuns(store, '1'), 1);
  });
});

test('dispatch-slots: when Redis refuses a claim after its push, the pushes are taken back', async () => {
  const store = new RedisTaskStore(redis, { keyPrefix: 'undo:meta:', brokerDb: 3 });
  await tasksOf(store, ['1', '2']);
  // A user that may not SET: the claims fail after the pushes went through, a fault of the whole store.
  await redis.call('ACL', 'SETUSER', 'no-claims', 'on', 'nopass', '~*', '+@all', '-set');
  const limited = new Redis(`${server.url}/0`, { username: 'no-claims', password: 'unused' });
  const broker = new Redis(`${server.url}/3`);
  try {
    const claimless = new RedisTaskStore(limited, { keyPrefix: 'undo:meta:', brokerDb: 3 });
    const items = ['1', '2'].map((name) => ({
      taskKey: `ns/${name}`,
      expected: runState(1000),
      next: ranState(2000, 1),
      push: { listKey: 'undo:celery', envelope: `{"task":"${name}"}` },
    }));
    await assert.rejects(claimless.dispatch(items), /can't run this command/);
    assert.equal(await broker.llen('undo:celery'), 0, 'no message without its claim');
    assert.equal(await storedRuns(store, '1'), 0);
  } finally {
    limited.disconnect();
    broker.disconnect();
  }
});

test('dispatch-slots: out of memory under noeviction fails the whole call with OOM, nothing claimed', async () => {
  const own = await startRedisServer();
  const client = new Redis(`${own.url}/0`);
  try {
    const store = new RedisTaskStore(client, { keyPrefix: 'oom:meta:', brokerDb: 0 });
    await tasksOf(store, ['1', '2']);
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    await client.config('SET', 'maxmemory', '1');
    const items = ['1', '2'].map((name) => ({
      taskKey: `ns/${name}`,
      expected: runState(1000),
      next: ranState(2000, 1),
      push: { listKey: 'oom:celery', envelope: `{"task":"${name}"}` },
    }));
    await assert.rejects(store.dispatch(items), /OOM/);
    await client.config('SET', 'maxmemory', '0');
    assert.equal(await client.llen('oom:celery'), 0);
    for (const name of ['1', '2'])
      assert.equal(JSON.parse((await client.get(store.redisKey(`ns/${name}`)))!).total_run_count, 0);
  } finally {
    client.disconnect();
    await own.stop();
  }
});
