// Publishing throughput: messages built, checked and published per second to Redis (pipelined batches) and to
// RabbitMQ (publisher confirms), next to `redis-benchmark -t lpush` with the same payload size on the same
// private Redis. Prints figures only; it asserts nothing about time.
//
//   node test/bench/publish.bench.ts [--messages N] [--batch B]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import type { TaskOptions } from '../../src/api/types.ts';
import { type Broker, createBroker } from '../../src/celery/broker.ts';
import { buildTaskMessage } from '../../src/celery/message.ts';
import { encodeRedisEnvelope } from '../../src/celery/redis-envelope.ts';
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import { RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { startRedisServer } from '../support/redis-server.ts';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '100000' }, batch: { type: 'string', default: '1000' } },
});
const MESSAGES = Number(values.messages);
const BATCH = Number(values.batch);

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

const redisServer = await startRedisServer();
const client = new Redis(redisServer.url);
try {
  const sample = outgoing(0, 'bench');
  const payload = Buffer.byteLength(
    encodeRedisEnvelope(sample.message, { exchange: '', routingKey: 'bench' }),
  );

  // Build + check + encode alone, no I/O.
  let t = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const o = outgoing(i, 'bench');
    encodeRedisEnvelope(o.message, { exchange: '', routingKey: 'bench' });
  }
  const buildRate = MESSAGES / ((performance.now() - t) / 1000);

  const redisBroker = await createBroker(redisServer.url);
  await publishAll(redisBroker, 'warmup');
  await client.del('warmup');
  const redisRate = await publishAll(redisBroker, 'bench');
  const pushed = await client.llen('bench');
  await redisBroker.close();
  await client.flushdb();
  if (pushed !== MESSAGES) throw new Error(`expected ${MESSAGES} messages in Redis, found ${pushed}`);

  const single = redisBenchmark(redisServer.port, payload, 1, BATCH);
  await client.flushdb();
  const many = redisBenchmark(redisServer.port, payload, 50, 16);
  await client.flushdb();

  let amqpRate = Number.NaN;
  const queue = uniqueQueueName('bench.publish');
  const conn = await connect(RABBITMQ_URL);
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: true });
  try {
    const amqpBroker = await createBroker(RABBITMQ_URL);
    t = performance.now();
    amqpRate = await publishAll(amqpBroker, queue);
    await amqpBroker.close();
  } finally {
    await ch.deleteQueue(queue);
    await conn.close();
  }

  console.log(`messages: ${fmt(MESSAGES)}, batch: ${BATCH}, Redis envelope: ${payload} bytes`);
  console.log(`build + check + encode (no I/O):               ${fmt(buildRate)} msg/s`);
  console.log(`Redis publish (pipelined batches of ${BATCH}):     ${fmt(redisRate)} msg/s`);
  console.log(
    `redis-benchmark lpush -d ${payload} -c 1 -P ${BATCH}:   ${fmt(single)} req/s  -> ratio ${(redisRate / single).toFixed(2)}`,
  );
  console.log(
    `redis-benchmark lpush -d ${payload} -c 50 -P 16:    ${fmt(many)} req/s  -> ratio ${(redisRate / many).toFixed(2)}`,
  );
  console.log(`RabbitMQ publish (confirmed, batches of ${BATCH}): ${fmt(amqpRate)} msg/s`);
} finally {
  client.disconnect();
  await redisServer.stop();
}
