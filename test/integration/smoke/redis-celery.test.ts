// Proves the Redis and Celery parts of the test bed: a private redis-server, and a real Celery worker that
// runs a message captured from Celery 5.2.6 itself when it is pushed raw into Redis.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { type CeleryWorker, startCeleryWorker } from '../../support/celery-worker.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

const VECTOR = new URL('../../fixtures/vectors/redis/default.json', import.meta.url);

let redis: RedisServer;
let worker: CeleryWorker;

before(async () => {
  redis = await startRedisServer();
  worker = await startCeleryWorker({ brokerUrl: `${redis.url}/0`, queues: ['celery'] });
});

after(async () => {
  await worker?.stop();
  await redis?.stop();
});

test('a Celery worker runs the captured default message pushed raw into Redis', async () => {
  const raw = await readFile(VECTOR, 'utf8');
  const message = JSON.parse(raw) as { headers: { id: string } };
  const client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
  try {
    await client.lpush('celery', raw.trim());
  } finally {
    client.disconnect();
  }
  // An execution is recorded when it starts: wait until it has finished.
  const [execution] = await worker.waitForExecutions(
    (runs) => runs.some((r) => r.outcome !== 'running'),
    30_000,
  );
  assert.ok(execution);
  assert.equal(execution.task, 'tasks.add');
  assert.equal(execution.id, message.headers.id);
  assert.deepEqual(execution.args, [2, 3]);
  assert.deepEqual(execution.kwargs, { x: 1 });
  assert.equal(execution.outcome, 'succeeded');
  assert.equal(execution.result, 6);
  assert.equal(execution.deliveryInfo.routing_key, 'celery');
  assert.equal(execution.request.origin, 'gen8750@vm');
  assert.equal(execution.message?.properties.delivery_tag, 'dcf6074f-6373-44c0-a86a-1a7f66cf3204');
  assert.ok(execution.receivedAt !== null && execution.receivedAt <= execution.startedAt);
});

test('a restarted private Redis keeps its port and starts empty', async () => {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  await client.connect();
  await client.set('restart-probe', '1');
  client.disconnect();
  await redis.restart();
  const again = new Redis(redis.url, { lazyConnect: true });
  await again.connect();
  try {
    assert.equal(await again.get('restart-probe'), null);
    assert.equal(await again.ping(), 'PONG');
  } finally {
    again.disconnect();
  }
});
