// Publishing over RabbitMQ, checked on the wire (against messages Celery 5.2.6 published) and by real workers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { after, test } from 'node:test';
import { type ChannelModel, connect } from 'amqplib';
import type { TaskOptions } from '../../../src/api/types.ts';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import type { Broker } from '../../../src/contracts.ts';
import { freePort } from '../../support/ports.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../../support/rabbitmq.ts';
import { amqpShape, withoutOperatorHeaders } from '../../unit/celery/envelope-shape.ts';
import {
  assertDelivered,
  openBroker,
  registerWorkerScenarios,
  send,
  withWorker,
} from './worker-scenarios.ts';

const fixture = (path: string): string =>
  readFileSync(new URL(`../../fixtures/celery/${path}`, import.meta.url), 'utf8');

const names: string[] = [];
function unique(prefix: string): string {
  const name = uniqueQueueName(`celery-it.${prefix}`);
  names.push(name);
  return name;
}

let shared: Broker | undefined;
async function broker(): Promise<Broker> {
  shared ??= await openBroker(RABBITMQ_URL);
  return shared;
}

async function withChannel<T>(body: (conn: ChannelModel) => Promise<T>): Promise<T> {
  const conn = await connect(RABBITMQ_URL);
  try {
    return await body(conn);
  } finally {
    await conn.close();
  }
}

after(async () => {
  await shared?.close();
  await deleteQueues(names);
  // Workers declare an exchange named like each queue; the tests declare a few more.
  await withChannel(async (conn) => {
    for (const name of names) {
      const ch = await conn.createChannel();
      await ch.deleteExchange(name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  });
});

const bed = {
  name: 'rabbitmq',
  brokerUrl: RABBITMQ_URL,
  unique,
  // On RabbitMQ a higher number runs first, on a queue declared with x-max-priority.
  priority: { published: [1, 5, 9, 0, 7], runOrder: [2, 4, 1, 0, 3] },
  // The queue is declared by a worker of its own (so with the arguments workers use), which then stops.
  prepareQueue: (spec: { name: string; maxPriority?: number }) =>
    withWorker(bed, [spec], async () => undefined),
};
const b = await broker();
registerWorkerScenarios(bed, () => b);

interface AmqpVector {
  queue: string;
  delivery_info: { exchange: string; routing_key: string };
  properties: Record<string, unknown>;
  body: string;
}

const PROPERTY_NAMES: Record<string, string> = {
  contentType: 'content_type',
  contentEncoding: 'content_encoding',
  headers: 'application_headers',
  deliveryMode: 'delivery_mode',
  priority: 'priority',
  correlationId: 'correlation_id',
  replyTo: 'reply_to',
  expiration: 'expiration',
  messageId: 'message_id',
  timestamp: 'timestamp',
  type: 'type',
  userId: 'user_id',
  appId: 'app_id',
};

const WIRE_CASES: {
  file: string;
  options: Partial<TaskOptions>;
  periodicName?: string;
  maxPriority?: number;
}[] = [
  { file: 'amqp/default__celery.json', options: {} },
  { file: 'amqp/full_combo__q2.json', options: { priority: 5, expires: 120 }, periodicName: 'combo' },
  { file: 'amqp/maxprio__prioq.json', options: { priority: 7 }, maxPriority: 10 },
  { file: 'amqp/queue_bound_to_exchange__hipri.json', options: {} },
];

test('rabbitmq: the published properties, headers and body equal what Celery 5.2.6 published, ids and clock values aside', async () => {
  await withChannel(async (conn) => {
    const ch = await conn.createChannel();
    for (const c of WIRE_CASES) {
      const vector = JSON.parse(fixture(c.file)) as AmqpVector;
      const queue = unique('wire');
      await ch.assertQueue(queue, {
        durable: true,
        ...(c.maxPriority ? { arguments: { 'x-max-priority': c.maxPriority } } : {}),
      });
      const options: TaskOptions = { queue, headers: {}, ...c.options };
      const message = buildTaskMessage({
        task: 'tasks.add',
        id: `id-${queue}`,
        args: [2, 3],
        kwargs: { x: 1 },
        options,
        scheduledAt: Date.now(),
        periodicTaskName: c.periodicName ?? 'itest/wire',
        namespace: 'itest',
      });
      const [outcome] = await b.publish([{ message, options }]);
      assert.deepEqual(outcome, { ok: true }, c.file);
      const got = await ch.get(queue, { noAck: true });
      assert.ok(got, `${c.file}: a message in ${queue}`);
      const props: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(got.properties)) {
        if (value !== undefined) props[PROPERTY_NAMES[key] ?? key] = value;
      }
      props.application_headers = withoutOperatorHeaders(
        props.application_headers as Record<string, unknown>,
        c.periodicName ? ['periodic_task_name'] : [],
      );
      assert.deepEqual(
        amqpShape(props, got.content.toString('utf8')),
        amqpShape(vector.properties, vector.body),
        c.file,
      );
      assert.equal(got.fields.exchange, vector.delivery_info.exchange);
      assert.equal(got.fields.routingKey, queue);
    }
  });
});

test('rabbitmq: a message for a queue that does not exist is reported as unroutable, and the broker keeps working', async () => {
  const missing = await send(b, 'tasks.add', [1, 1], {}, { queue: unique('missing') });
  assert.ok(!missing.outcome.ok);
  assert.match(missing.outcome.error.message, /could not route the message: 312 NO_ROUTE/);
  const noExchange = await send(
    b,
    'tasks.add',
    [1, 1],
    {},
    { queue: 'x', exchange: unique('no-ex'), routingKey: 'k' },
  );
  assert.ok(!noExchange.outcome.ok);
  assert.match(noExchange.outcome.error.message, /NOT_FOUND - no exchange/);
  const queue = unique('after-404');
  await withChannel(async (conn) => {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true });
  });
  assertDelivered(
    await send(b, 'tasks.add', [1, 1], {}, { queue }),
    'a publish after the channel was closed by a 404',
  );
});

test('rabbitmq: with nothing listening a publish fails clearly, without the password, and nothing crashes', async () => {
  const port = await freePort();
  const down = await openBroker(`amqp://guest:s3cret@127.0.0.1:${port}`);
  const sent = await send(down, 'tasks.add', [1, 1], {}, { queue: 'celery' });
  await down.close();
  assert.ok(!sent.outcome.ok);
  assert.match(
    sent.outcome.error.message,
    /RabbitMQ broker amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+ is not reachable: .*ECONNREFUSED/,
  );
  assert.doesNotMatch(sent.outcome.error.message, /s3cret/);
});

/** A TCP relay to RabbitMQ that can drop every connection and refuse new ones, as a broker restart does. */
async function relay(port: number): Promise<{ down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const target = new URL(RABBITMQ_URL);
  const up = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = createServer((client) => {
        const upstream = tcpConnect(Number(target.port || 5672), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      if (server) server.close(() => resolve());
      else resolve();
    });
  await up();
  return { up, down };
}

test('rabbitmq: after the broker goes away the failed publishes are reported and the next one after it is back works', async () => {
  const queue = unique('restart');
  await withChannel(async (conn) => {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true });
  });
  const port = await freePort();
  const proxy = await relay(port);
  const viaProxy = await openBroker(`amqp://guest:guest@127.0.0.1:${port}`);
  try {
    assertDelivered(await send(viaProxy, 'tasks.add', [1, 1], {}, { queue }), 'before the restart');
    await proxy.down();
    const during = await send(viaProxy, 'tasks.add', [1, 2], {}, { queue });
    assert.ok(!during.outcome.ok, 'a publish while the broker is away is not delivered');
    await proxy.up();
    assertDelivered(await send(viaProxy, 'tasks.add', [1, 3], {}, { queue }), 'after the restart');
  } finally {
    await viaProxy.close();
    await proxy.down();
  }
  const count = await withChannel(
    async (conn) => (await (await conn.createChannel()).checkQueue(queue)).messageCount,
  );
  assert.equal(count, 2, 'exactly the two publishes reported as delivered are in the queue');
});

test('rabbitmq: a message for a missing exchange is refused alone, wherever it is in the batch', async () => {
  const queue = unique('neighbours');
  const missingExchange = unique('gone-ex');
  await withChannel(async (conn) => {
    const ch = await conn.createChannel();
    await ch.assertQueue(queue, { durable: true });
  });
  const b = await broker();
  const message = (id: string, options: TaskOptions) => ({
    message: buildTaskMessage({
      task: 'tasks.add',
      id,
      args: [1, 2],
      kwargs: {},
      options,
      scheduledAt: Date.now(),
      periodicTaskName: 'default/neighbours',
      namespace: 'default',
    }),
    options,
  });
  const good: TaskOptions = { queue, headers: {} };
  const bad: TaskOptions = { queue, exchange: missingExchange, routingKey: queue, headers: {} };
  const sentIds: string[] = [];
  for (let position = 0; position <= 10; position++) {
    const batch = Array.from({ length: 10 }, (_, i) => message(`p${position}-good-${i}`, good));
    batch.splice(position, 0, message(`p${position}-bad`, bad));
    const outcomes = await b.publish(batch);
    outcomes.forEach((outcome, i) => {
      const id = batch[i]!.message.properties.correlation_id;
      if (id.endsWith('-bad')) {
        assert.ok(!outcome.ok, `position ${position}: the bad message is refused`);
        assert.match(outcome.error.message, new RegExp(`NOT_FOUND - no exchange '${missingExchange}'`));
      } else {
        assert.ok(
          outcome.ok,
          `position ${position}: ${id} confirmed (${outcome.ok ? '' : outcome.error.message})`,
        );
        sentIds.push(id);
      }
    });
  }
  const received = await withChannel(async (conn) => {
    const ch = await conn.createChannel();
    const ids: string[] = [];
    for (let got = await ch.get(queue, { noAck: true }); got; got = await ch.get(queue, { noAck: true })) {
      ids.push(String(got.properties.correlationId));
    }
    return ids;
  });
  assert.deepEqual(received.sort(), sentIds.sort(), 'each confirmed message delivered once, no other');
});
