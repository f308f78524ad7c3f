// SIGTERM with Redis, RabbitMQ and the API server all unreachable (connections open, no byte passing, the way
// a partition looks): the operator still exits well inside the chart's 30 s grace period, and says what it
// could not finish.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { type TcpRelay, tcpRelay } from '../support/tcp-relay.ts';
import { sharedCluster } from '../testbed/cluster.ts';

const GRACE_PERIOD_MS = 30_000;
const links: TcpRelay[] = [];
const queues: string[] = [];

after(async () => {
  for (const link of links) await link.close();
  await deleteQueues(queues);
});

test('SIGTERM with the store, the broker and the API server unreachable exits in time, naming what was left', async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'shutdown');
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  const queue = uniqueQueueName('shutdown');
  queues.push(queue);
  const amqp = await connect(RABBITMQ_URL);
  await (await amqp.createChannel()).assertQueue(queue, { durable: true });
  await amqp.close();

  const apiPort = Number(new URL(cluster.server).port);
  const [redisLink, brokerLink, apiLink] = await Promise.all([
    tcpRelay(redisServer.port),
    tcpRelay(Number(new URL(RABBITMQ_URL).port)),
    tcpRelay(apiPort),
  ]);
  links.push(redisLink, brokerLink, apiLink);
  // The API server's certificate names 127.0.0.1, so TLS goes through the relay unchanged.
  const kubeconfig = `${ns.kubeconfig}.relayed`;
  await writeFile(
    kubeconfig,
    (await readFile(ns.kubeconfig, 'utf8')).replace(`:${apiPort}`, `:${apiLink.port}`),
  );
  const items = Array.from({ length: 20 }, (_, i) =>
    JSON.parse(
      periodicTask(ns.namespace, `t-${i}`, { interval: { every: 1, period: 'seconds' }, options: { queue } }),
    ),
  );
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  });

  const operator = startClusterOperator({ ...ns, kubeconfig }, `redis://127.0.0.1:${redisLink.port}/0`, [
    '--broker-url',
    RABBITMQ_URL.replace(/:\d+$/, `:${brokerLink.port}`),
  ]);
  try {
    await waitUntil(
      'runs recorded in Redis',
      async () => {
        const raw = await redis.get(`tasks:meta:${ns.namespace}/t-0`);
        return raw !== null && (JSON.parse(raw).total_run_count as number) >= 2;
      },
      60_000,
    );
    for (const link of [redisLink, brokerLink, apiLink]) link.freeze();
    const signalledAt = Date.now();
    await operator.stop();
    const took = Date.now() - signalledAt;
    assert.equal(await operator.process.exited, 0, 'a clean exit');
    assert.ok(took < GRACE_PERIOD_MS / 2, `exited ${took} ms after SIGTERM`);
    const late = operator.logs().filter((l) => String(l.msg).endsWith('did not finish in time'));
    assert.ok(late.length > 0, 'the log says which shutdown steps were cut short');
    const flush = late.find((l) => l.step === 'flushing status' || l.step === 'stopping the beat');
    assert.ok(flush, `the status flush or the in-flight batch is named: ${JSON.stringify(late)}`);
    assert.ok(operator.logs().some((l) => l.msg === 'stopped'));
  } finally {
    await operator.kill();
    redis.disconnect();
    await redisServer.stop();
  }
});
