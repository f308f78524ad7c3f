// Publishing over Redis, checked on the wire (against envelopes Celery 5.2.6 wrote) and by real workers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { TaskOptions } from '../../../src/api/types.ts';
import { createBroker } from '../../../src/celery/broker.ts';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import { KOMBU_SEP, resolveRedisRoutes } from '../../../src/celery/redis-routing.ts';
import type { Broker } from '../../../src/contracts.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { tcpRelay } from '../../support/tcp-relay.ts';
import { redisShape, withoutOperatorHeaders } from '../../unit/celery/envelope-shape.ts';
import { assertDelivered, openBroker, registerWorkerScenarios, send } from './worker-scenarios.ts';

const fixture = (path: string): string =>
  readFileSync(new URL(`../../fixtures/celery/${path}`, import.meta.url), 'utf8');

let server: RedisServer;
let broker: Broker;
let client: Redis;

before(async () => {
  server = await startRedisServer();
  broker = await openBroker(server.url);
  client = new Redis(server.url);
});

after(async () => {
  await broker?.close();
  client?.disconnect();
  await server?.stop();
});

const run = randomBytes(3).toString('hex');
registerWorkerScenarios(
  {
    name: 'redis',
    get brokerUrl() {
      return `${server.url}/0`;
    },
    unique: (prefix) => `${prefix}.${run}`,
    // On Redis a lower number runs first; 0-2, 3-5, 6-8 and 9 are the four buckets.
    priority: { published: [9, 6, 3, 0, undefined, 9, 0], runOrder: [3, 4, 6, 2, 1, 0, 5] },
    prepareQueue: async () => undefined,
  },
  () => broker,
);

const index = JSON.parse(fixture('redis/index.json')) as Record<string, { list_key: string | null }>;

// The captured send_task cases whose options a PeriodicTask has (see test/unit/celery/message.test.ts).
const WIRE_CASES: {
  name: string;
  options: Partial<TaskOptions>;
  periodicName?: string;
  ignore?: string[];
}[] = [
  { name: 'default', options: {} },
  { name: 'custom_queue', options: { queue: 'q2' } },
  { name: 'priority_0', options: { priority: 0 } },
  { name: 'priority_3', options: { priority: 3 } },
  { name: 'priority_5', options: { priority: 5 } },
  { name: 'priority_7', options: { priority: 7 } },
  { name: 'priority_9', options: { priority: 9 } },
  { name: 'expires_seconds', options: { expires: 60 } },
  { name: 'custom_headers', options: { headers: { foo: 'bar' } }, periodicName: 'every-minute' },
  { name: 'exchange_routing_bound', options: { queue: 'hipri' } },
  { name: 'exchange_routing_explicit_after_bind', options: { exchange: 'tasks_ex', routingKey: 'hi.key' } },
  {
    name: 'timelimits_shadow_ignore_result',
    options: { timeLimit: 30, softTimeLimit: 20 },
    ignore: ['shadow', 'ignore_result'],
  },
  { name: 'full_combo', options: { queue: 'q2', priority: 5, expires: 120 }, periodicName: 'combo' },
];

test('redis: what lands in each list equals what Celery 5.2.6 wrote there, ids and clock values aside', async () => {
  await client.flushdb();
  await client.sadd('_kombu.binding.tasks_ex', `hi.key${KOMBU_SEP}${KOMBU_SEP}hipri`);
  for (const c of WIRE_CASES) {
    const options: TaskOptions = { queue: 'celery', headers: {}, ...c.options };
    const message = buildTaskMessage({
      task: 'tasks.add',
      id: `id-${c.name}`,
      args: [2, 3],
      kwargs: { x: 1 },
      options,
      scheduledAt: Date.now(),
      periodicTaskName: c.periodicName ?? 'itest/wire',
      namespace: 'itest',
    });
    const [outcome] = await broker.publish([{ message, options }]);
    assert.deepEqual(outcome, { ok: true }, c.name);
    const listKey = index[c.name]?.list_key;
    assert.ok(listKey, `${c.name} has a captured list key`);
    const pushed = await client.lrange(listKey, 0, -1);
    assert.equal(pushed.length, 1, `${c.name}: one message in ${JSON.stringify(listKey)}`);
    await client.del(listKey);
    const ours = redisShape(pushed[0] as string);
    const captured = redisShape(fixture(`redis/${c.name}.json`));
    ours.headers = withoutOperatorHeaders(ours.headers, c.periodicName ? ['periodic_task_name'] : []);
    for (const h of c.ignore ?? []) {
      delete ours.headers[h];
      delete captured.headers[h];
    }
    assert.deepEqual(ours, captured, c.name);
  }
  const left = (await client.keys('*')).filter((k) => !k.startsWith('_kombu.binding.'));
  assert.deepEqual(left, [], 'nothing was pushed anywhere else');
});

test('redis: an explicit exchange without a binding is an error and nothing is pushed', async () => {
  await client.flushdb();
  // A broker of its own: the shared one may still cache the binding an earlier test created.
  const fresh = await openBroker(server.url);
  const options: TaskOptions = { queue: 'celery', exchange: 'tasks_ex', routingKey: 'hi.key', headers: {} };
  const sent = await send(fresh, 'tasks.add', [2, 3], {}, options);
  await fresh.close();
  assert.equal(sent.outcome.ok, false);
  assert.ok(!sent.outcome.ok);
  assert.match(
    sent.outcome.error.message,
    /no queue is bound to exchange "tasks_ex" with routing key "hi\.key"/,
  );
  assert.deepEqual(await client.keys('*'), []);
});

test('redis: route lookups are cached, and refresh sees a new binding', async () => {
  await client.flushdb();
  const options: TaskOptions = { queue: 'a', exchange: 'ex', routingKey: 'k', headers: {}, priority: 6 };
  await client.sadd('_kombu.binding.ex', `k${KOMBU_SEP}${KOMBU_SEP}a`);
  assert.deepEqual(await resolveRedisRoutes(client, options), [`a${KOMBU_SEP}6`]);
  await client.sadd('_kombu.binding.ex', `k${KOMBU_SEP}${KOMBU_SEP}b`);
  assert.deepEqual(await resolveRedisRoutes(client, options), [`a${KOMBU_SEP}6`], 'cached');
  assert.deepEqual((await resolveRedisRoutes(client, options, { refresh: true })).sort(), [
    `a${KOMBU_SEP}6`,
    `b${KOMBU_SEP}6`,
  ]);
});

test('redis: a batch is pipelined, one outcome per message in order, a bad message does not stop the others', async () => {
  await client.flushdb();
  const options: TaskOptions = { queue: 'batch', headers: {} };
  const good = (i: number) =>
    buildTaskMessage({
      task: 'tasks.add',
      id: `b-${i}`,
      args: [i, 0],
      kwargs: {},
      options,
      scheduledAt: Date.now(),
      periodicTaskName: 'itest/batch',
      namespace: 'itest',
    });
  const bad = { ...good(99), body: '[1, 2]' };
  const outcomes = await broker.publish([
    { message: good(0), options },
    { message: bad, options },
    { message: good(2), options },
  ]);
  assert.deepEqual(outcomes[0], { ok: true });
  assert.equal(outcomes[1]?.ok, false);
  assert.deepEqual(outcomes[2], { ok: true });
  const ids = (await client.lrange('batch', 0, -1)).map((e) => JSON.parse(e).headers.id);
  assert.deepEqual(ids, ['b-2', 'b-0']);
});

test('redis: with Redis down a publish fails clearly, the caller learns nothing was delivered, and it recovers', async () => {
  const own = await startRedisServer();
  const secretUrl = own.url.replace('redis://', 'redis://:s3cret@');
  const b = await openBroker(own.url);
  try {
    const first = await send(b, 'tasks.add', [1, 1], {}, { queue: 'celery' });
    assertDelivered(first, 'before the outage');
    // SHUTDOWN rather than stop(): the helper's restart() needs the server's directory, which stop() removes.
    const killer = new Redis(own.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    killer.on('error', () => undefined);
    await killer.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    killer.disconnect();
    const down = await send(b, 'tasks.add', [1, 2], {}, { queue: 'celery' });
    assert.equal(down.outcome.ok, false);
    assert.ok(!down.outcome.ok);
    assert.match(
      down.outcome.error.message,
      /Redis broker redis:\/\/127\.0\.0\.1:\d+\/? (is not reachable|.*failed, message not delivered)/,
    );
    await own.restart();
    let again = await send(b, 'tasks.add', [1, 3], {}, { queue: 'celery' });
    for (let i = 0; i < 20 && !again.outcome.ok; i++)
      again = await send(b, 'tasks.add', [1, 3], {}, { queue: 'celery' });
    assertDelivered(again, 'after Redis is back');
    const c = new Redis(own.url);
    assert.equal(
      await c.llen('celery'),
      1,
      'only the message sent after the restart is there (a restart empties Redis)',
    );
    c.disconnect();
  } finally {
    await b.close();
    await own.stop();
  }
  const unreachable = await openBroker(secretUrl);
  const sent = await send(unreachable, 'tasks.add', [1, 1], {}, { queue: 'celery' });
  await unreachable.close();
  assert.ok(!sent.outcome.ok);
  assert.doesNotMatch(sent.outcome.error.message, /s3cret/);
});

test('redis: an LPUSH without a reply is of unknown outcome (Redis may have it), a refused one is not', async () => {
  const relay = await tcpRelay(Number(new URL(server.url).port));
  const b = await createBroker(`redis://127.0.0.1:${relay.port}`, {
    connectTimeoutMs: 2000,
    publishTimeoutMs: 500,
  });
  try {
    await client.set('not-a-list', 'x');
    const refused = await send(b, 'tasks.add', [1, 1], {}, { queue: 'not-a-list' });
    assert.ok(!refused.outcome.ok);
    assert.equal(refused.outcome.unknown, undefined, 'a WRONGTYPE reply: not delivered');
    relay.freeze();
    const held = await send(b, 'tasks.add', [1, 2], {}, { queue: 'held-back' });
    assert.ok(!held.outcome.ok);
    assert.equal(held.outcome.unknown, true);
    assert.match(held.outcome.error.message, /outcome unknown/);
    relay.thaw();
    await waitUntil(
      'the held LPUSH reaching Redis',
      async () => (await client.llen('held-back')) === 1,
      5000,
    );
  } finally {
    relay.thaw();
    await b.close();
    await relay.close();
    await client.del('not-a-list', 'held-back');
  }
});
