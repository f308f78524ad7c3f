// Proves the RabbitMQ part of the test bed: a Celery protocol-v2 message published with amqplib to a queue
// of the test's own is executed by a real Celery worker, custom headers included.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect } from 'amqplib';
import { type CeleryWorker, startCeleryWorker } from '../../support/celery-worker.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../../support/rabbitmq.ts';

const queue = uniqueQueueName('smoke');
let worker: CeleryWorker;

before(async () => {
  worker = await startCeleryWorker({ brokerUrl: RABBITMQ_URL, queues: [queue] });
});

after(async () => {
  await worker?.stop();
  await deleteQueues([queue]);
});

test('a Celery worker runs a message published to its RabbitMQ queue', async () => {
  const id = randomUUID();
  const conn = await connect(RABBITMQ_URL);
  try {
    const channel = await conn.createConfirmChannel();
    const body = JSON.stringify([
      [2, 3],
      { x: 1 },
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ]);
    channel.publish('', queue, Buffer.from(body), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      correlationId: id,
      deliveryMode: 2,
      priority: 0,
      headers: {
        lang: 'py',
        task: 'tasks.add',
        id,
        root_id: id,
        retries: 0,
        timelimit: [null, null],
        argsrepr: '[2, 3]',
        kwargsrepr: "{'x': 1}",
        periodic_task_name: 'smoke/every-minute',
      },
    });
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await conn.close();
  }
  const [execution] = await worker.waitForExecutions(1, 30_000);
  assert.ok(execution);
  assert.equal(execution.task, 'tasks.add');
  assert.equal(execution.id, id);
  assert.equal(execution.result, 6);
  assert.equal(execution.request.periodic_task_name, 'smoke/every-minute');
  assert.equal(execution.deliveryInfo.routing_key, queue);
});
