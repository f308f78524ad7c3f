// A RabbitMQ confirm that never arrives, on a real API server: the operator reaches RabbitMQ through a TCP relay
// that is frozen after the connection is up, so a publish is written but its confirm never comes back. The
// claim is kept (the run is never sent again, by this leader or the next), the publish is counted as of
// unknown outcome (status.unknownRunCount, the metric) and not as a run; once the relay thaws, the broker
// delivers the message it had, exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import { counterValue, type OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type TcpRelay, tcpRelay } from '../support/tcp-relay.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';

let cluster: ClusterHandle;
let ns: OperatorNamespace;
let server: RedisServer;
let redis: Redis;
let relay: TcpRelay;
let amqp: ChannelModel;
let channel: Channel;
const queue = uniqueQueueName('e2e-unknown');

interface Delivered {
  task: string;
  slot: string;
  id: string;
}

/** Every message RabbitMQ holds in the queue so far (taken off it, so each call returns the new ones). */
async function take(): Promise<Delivered[]> {
  const found: Delivered[] = [];
  for (;;) {
    const msg = await channel.get(queue, { noAck: true });
    if (msg === false) return found;
    const headers = msg.properties.headers as Record<string, string>;
    found.push({
      task: headers.periodic_task_name!,
      slot: headers.periodic_task_scheduled_at!,
      id: headers.id!,
    });
  }
}

const get = async (name: string) =>
  JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace, '-o', 'json'])) as PeriodicTask;
const apply = (name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}) => {
  const manifest = JSON.parse(periodicTask(ns.namespace, name, { ...spec, options: { queue } }));
  manifest.metadata.annotations = annotations;
  return cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
};

describe('a confirm that never arrives', { timeout: 240_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'e2e-unknown');
    server = await startRedisServer();
    redis = new Redis(server.url);
    relay = await tcpRelay(Number(new URL(RABBITMQ_URL).port || 5672));
    amqp = await connect(RABBITMQ_URL);
    channel = await amqp.createChannel();
    // Declared as a Celery worker declares it, so the default exchange routes to it.
    await channel.assertQueue(queue, { durable: true });
  });
  after(async () => {
    await amqp?.close();
    await relay?.close();
    redis?.disconnect();
    await server?.stop();
    await deleteQueues([queue]);
  });

  test('the claim is kept, counted as unknown in status and the metric, never sent again', async () => {
    const brokerUrl = new URL(RABBITMQ_URL);
    brokerUrl.port = String(relay.port);
    const flags = ['--broker-url', brokerUrl.toString()];
    let operator: OperatorProcess = startClusterOperator(ns, server.url, flags);
    const delivered: Delivered[] = [];
    try {
      await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
      const every2s = { task: 'tasks.record', interval: { every: 2, period: 'seconds' } };
      const hourly = { task: 'tasks.record', interval: { every: 1, period: 'hours' } };
      await apply('lost', every2s);
      await apply('now', hourly);
      await operator.waitForLog('a confirmed run', (l) => l.msg === 'task sent' && l.name === 'lost', 30_000);

      // Frozen with the connection up: what the operator publishes now is written, and its confirm never comes.
      relay.freeze();
      await apply('now', hourly, { 'celerybeat.io/run-now': 'tok-1' });
      await operator.waitForLog(
        'a scheduled publish of unknown outcome',
        (l) => l.msg === 'publish outcome unknown: counted as unknown, not sent again' && l.name === 'lost',
        30_000,
      );
      await operator.waitForLog(
        'a run-now of unknown outcome',
        (l) => l.msg === 'manual run of unknown outcome: counted as unknown, not sent again',
        30_000,
      );
      await operator.waitForLog('run-now handled', (l) => l.msg === 'run-now handled' && l.token === 'tok-1');
      relay.thaw();

      let seen = '';
      await waitUntil(
        () => `status.unknownRunCount of both tasks, and lastRunNow; status now: ${seen}`,
        async () => {
          const [lost, now] = [(await get('lost')).status, (await get('now')).status];
          seen = JSON.stringify({ lost, now });
          return (
            (lost?.unknownRunCount ?? 0) >= 1 && now?.unknownRunCount === 1 && now.lastRunNow === 'tok-1'
          );
        },
        30_000,
      );
      const unknownMetric = counterValue(
        await operator.metrics(),
        'celerybeat_dispatches_total{result="unknown"}',
      );
      const lostUnknown = (await get('lost')).status!.unknownRunCount!;
      assert.equal(unknownMetric, lostUnknown + 1, 'the metric counts each publish of unknown outcome');
      const claims = await redis.hgetall(`celerybeat-operator:manual:tasks:meta:${ns.namespace}/now`);
      assert.deepEqual(claims['claim:run-now:tok-1'], 'unknown', 'the run-now claim is kept, as unknown');

      // The same token applied again, and handled by a new leader: the claim holds, nothing is sent again.
      await operator.stop();
      operator = startClusterOperator(ns, server.url, flags);
      await operator.waitForLog('leader again', (l) => l.msg === 'became leader', 30_000);
      await apply('now', { ...hourly, description: 're-applied' }, { 'celerybeat.io/run-now': 'tok-1' });
      await operator.waitForLog(
        'more confirmed runs',
        (l) => l.msg === 'task sent' && l.name === 'lost',
        30_000,
      );

      await waitUntil(
        'the held messages delivered',
        async () => {
          delivered.push(...(await take()));
          return delivered.some((d) => d.task === `${ns.namespace}/now`);
        },
        30_000,
      );
    } finally {
      await operator.stop();
    }
    delivered.push(...(await take()));
    const runNow = delivered.filter((d) => d.task === `${ns.namespace}/now`);
    assert.equal(runNow.length, 1, 'the run-now message reached the broker once, though never confirmed');
    const lost = delivered.filter((d) => d.task === `${ns.namespace}/lost`);
    const slots = lost.map((d) => d.slot);
    assert.equal(new Set(slots).size, slots.length, `no slot twice: ${slots.join(', ')}`);
    const raw = await redis.get(`tasks:meta:${ns.namespace}/lost`);
    const stored = JSON.parse(raw!) as Record<string, unknown>;
    assert.equal(stored.publishing, undefined, 'no claim left under way');
    assert.equal(
      lost.length,
      Number(stored.total_run_count) + Number(stored.unknown_run_count),
      'every message is a confirmed run or one of unknown outcome; the unknown ones are not counted as runs',
    );
  });
});
