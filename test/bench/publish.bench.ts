// Publishing throughput: messages built, checked and published per second to Redis (pipelined batches) and to
// RabbitMQ (publisher confirms), next to `redis-benchmark -t lpush` with the same payload size on the same
// private Redis. Prints figures only; it asserts nothing about time.
//
//   node test/bench/publish.bench.ts [--messages N] [--batch B] [--rounds R]
// Each figure is the median of R rounds (the machine is shared, single runs are noisy), with the best in brackets.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import type { TaskOptions } from '../../src/api/types.ts';
import { amqpPublishOptions } from '../../src/celery/amqp-transport.ts';
import { createBroker } from '../../src/celery/broker.ts';
import { buildTaskMessage } from '../../src/celery/message.ts';
import { encodeRedisEnvelope } from '../../src/celery/redis-envelope.ts';
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import type { Broker } from '../../src/contracts.ts';
import { RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { startRedisServer } from '../support/redis-server.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const MESSAGES = Number(values.messages);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);

/** Median and best of ROUNDS runs of `measure` (each returns a rate per second). */
async function rounds(measure: () => number | Promise<number>): Promise<{ median: number; best: number }> {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(await measure());
  rates.sort((a, b) => a - b);
  return { median: rates[Math.floor(rates.length / 2)] as number, best: rates[rates.length - 1] as number };
}

// A typical periodic task: a few arguments, a small kwargs object, a header, an expiry and a time limit.
function outgoing(i: number, queue: string) {
  const options: TaskOptions = { queue, headers: { tenant: 'acme' }, expires: 3600, timeLimit: 60 };
  const slot = Date.now();
  const message = buildTaskMessage({
    task: 'reports.tasks.refresh_dashboard',
    id: taskIdForSlot(`bench/task-${i % 1000}`, '7d1c7e0a-43f5-4a4e-9d0b-1c2a3b4c5d6e', slot),
    args: [i, 'daily', true],
    kwargs: { region: 'eu-west-1', limit: 100, tags: ['a', 'b'] },
    options,
    scheduledAt: slot,
    periodicTaskName: `bench/task-${i % 1000}`,
    namespace: 'bench',
  });
  return { message, options };
}

async function publishAll(broker: Broker, queue: string): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < MESSAGES; done += BATCH) {
    const batch = [];
    for (let i = done; i < Math.min(MESSAGES, done + BATCH); i++) batch.push(outgoing(i, queue));
    const outcomes = await broker.publish(batch);
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw new Error(`bench publish failed: ${failed.error.message}`);
  }
  return MESSAGES / ((performance.now() - started) / 1000);
}

function redisBenchmark(port: number, payload: number, clients: number, pipeline: number): number {
  const csv = execFileSync(
    'redis-benchmark',
    [
      '-p',
      String(port),
      '-t',
      'lpush',
      '-n',
      String(MESSAGES * 2),
      '-d',
      String(payload),
      '-c',
      String(clients),
      '-P',
      String(pipeline),
      '--csv',
    ],
    { encoding: 'utf8' },
  );
  const row = csv.split('\n').find((line) => line.startsWith('"LPUSH'));
  if (!row) throw new Error(`unexpected redis-benchmark output:\n${csv}`);
  return Number(JSON.parse(`[${row}]`)[1]);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const both = (r: { median: number; best: number }): string => `${fmt(r.median)} (best ${fmt(r.best)})`;

const redisServer = await startRedisServer();
const client = new Redis(redisServer.url);
try {
  const sample = outgoing(0, 'bench');
  const payload = Buffer.byteLength(
    encodeRedisEnvelope(sample.message, { exchange: '', routingKey: 'bench' }),
  );

  // Build + check + encode alone, no I/O.
  const buildRate = await rounds(() => {
    const t = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      const o = outgoing(i, 'bench');
      encodeRedisEnvelope(o.message, { exchange: '', routingKey: 'bench' });
    }
    return MESSAGES / ((performance.now() - t) / 1000);
  });

  const redisBroker = await createBroker(redisServer.url);
  await publishAll(redisBroker, 'warmup');
  await client.del('warmup');
  const redisRate = await rounds(async () => {
    const rate = await publishAll(redisBroker, 'bench');
    const pushed = await client.llen('bench');
    await client.flushdb();
    if (pushed !== MESSAGES) throw new Error(`expected ${MESSAGES} messages in Redis, found ${pushed}`);
    return rate;
  });
  await redisBroker.close();

  const single = await rounds(async () => {
    const rate = redisBenchmark(redisServer.port, payload, 1, BATCH);
    await client.flushdb();
    return rate;
  });
  const many = await rounds(async () => {
    const rate = redisBenchmark(redisServer.port, payload, 50, 16);
    await client.flushdb();
    return rate;
  });

  const queue = uniqueQueueName('bench.publish');
  const conn = await connect(RABBITMQ_URL);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true });
  let amqpRate: { median: number; best: number };
  let rawAmqpRate: { median: number; best: number };
  try {
    const amqpBroker = await createBroker(RABBITMQ_URL);
    amqpRate = await rounds(async () => {
      const rate = await publishAll(amqpBroker, queue);
      await ch.purgeQueue(queue);
      return rate;
    });
    await amqpBroker.close();
    // The same bytes and properties published with bare amqplib and confirms: what RabbitMQ itself allows here.
    const sample = outgoing(0, queue).message;
    const body = Buffer.from(sample.body);
    const props = amqpPublishOptions(sample);
    const confirm = await conn.createConfirmChannel();
    rawAmqpRate = await rounds(async () => {
      const t = performance.now();
      for (let done = 0; done < MESSAGES; done += BATCH) {
        for (let i = done; i < Math.min(MESSAGES, done + BATCH); i++) confirm.publish('', queue, body, props);
        await confirm.waitForConfirms();
      }
      const rate = MESSAGES / ((performance.now() - t) / 1000);
      await ch.purgeQueue(queue);
      return rate;
    });
    await confirm.close();
  } finally {
    await ch.deleteQueue(queue);
    await conn.close();
  }

  console.log(
    `messages: ${fmt(MESSAGES)} per round, ${ROUNDS} rounds, batch: ${BATCH}, Redis envelope: ${payload} bytes`,
  );
  console.log(`build + check + encode (no I/O):                ${both(buildRate)} msg/s`);
  console.log(`Redis publish (pipelined batches of ${BATCH}):      ${both(redisRate)} msg/s`);
  console.log(
    `redis-benchmark -t lpush -d ${payload} -c 1 -P ${BATCH}: ${both(single)} req/s, ratio ${(redisRate.median / single.median).toFixed(2)}`,
  );
  console.log(
    `redis-benchmark -t lpush -d ${payload} -c 50 -P 16:  ${both(many)} req/s, ratio ${(redisRate.median / many.median).toFixed(2)}`,
  );
  console.log(`RabbitMQ publish (confirmed, batches of ${BATCH}):  ${both(amqpRate)} msg/s`);
  console.log(
    `bare amqplib, same bytes, confirmed per ${BATCH}:   ${both(rawAmqpRate)} msg/s, ratio ${(amqpRate.median / rawAmqpRate.median).toFixed(2)}`,
  );
} finally {
  client.disconnect();
  await redisServer.stop();
}
