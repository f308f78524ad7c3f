// The Celery worker helper itself: a prefork worker enforces a message's soft time limit and records it,
// and messages it does not run (unknown task) are reported as non-executions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { redisTaskMessage } from '../../support/celery-message.ts';
import { type CeleryWorker, startCeleryWorker } from '../../support/celery-worker.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

let redis: RedisServer;
let worker: CeleryWorker;
let client: Redis;

before(async () => {
  redis = await startRedisServer();
  worker = await startCeleryWorker({
    brokerUrl: redis.url,
    queues: ['celery'],
    pool: 'prefork',
    concurrency: 1,
  });
  client = new Redis(redis.url);
});

after(async () => {
  client?.disconnect();
  await worker?.stop();
  await redis?.stop();
});

test('a soft time limit from the message interrupts tasks.sleep and is recorded', async () => {
  await client.lpush(
    'celery',
    redisTaskMessage({
      task: 'tasks.sleep',
      args: [10],
      headers: { timelimit: [30, 1], periodic_task_name: 'p/q' },
    }),
  );
  const [execution] = await worker.waitForExecutions((e) => e.some((x) => x.outcome !== 'running'), 30_000);
  assert.ok(execution);
  assert.equal(execution.outcome, 'soft-time-limit');
  assert.deepEqual(execution.timeLimit, [30, 1]);
  assert.equal(execution.request.periodic_task_name, 'p/q');
  assert.ok(execution.finishedAt !== null && execution.finishedAt - execution.startedAt < 5_000);
});

test('a message for an unknown task is reported, not executed', async () => {
  const countBefore = (await worker.executions()).length;
  await client.lpush('celery', redisTaskMessage({ task: 'tasks.does_not_exist', id: 'unknown-1' }));
  await client.lpush('celery', redisTaskMessage({ task: 'tasks.record', args: ['after'] }));
  const executions = await worker.waitForExecutions((e) => e.some((x) => x.task === 'tasks.record'), 30_000);
  assert.equal(executions.length, countBefore + 1);
  const skipped = await worker.nonExecutions();
  assert.ok(
    skipped.some((n) => n.event === 'unknown' && n.id === 'unknown-1' && n.task === 'tasks.does_not_exist'),
  );
});
