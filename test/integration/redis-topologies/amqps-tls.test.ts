// amqps:// against a TLS-only RabbitMQ node started for this file (its own CA, server certificate and
// required client certificates; no plain AMQP listener). The operator's runs arrive over TLS; a client
// certificate from another CA, or a server the client cannot verify, fails with a clear error that never
// shows the password.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { connect } from 'amqplib';
import { createBroker } from '../../../src/celery/broker.ts';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { startTlsRabbitMq, type TlsRabbitMq } from '../../support/rabbitmq-tls.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { send } from '../celery/worker-scenarios.ts';

let rabbit: TlsRabbitMq;
let redis: RedisServer;
let dir: ManifestDir;

before(async () => {
  [rabbit, redis, dir] = await Promise.all([startTlsRabbitMq(), startRedisServer(), manifestDir()]);
});

after(async () => {
  await dir?.remove();
  await redis?.stop();
  await rabbit?.stop();
});

function query(files: Record<string, string>): string {
  return new URLSearchParams(files).toString();
}

test('the operator publishes its runs over amqps:// with a private CA and a client certificate', async () => {
  const { tls } = rabbit;
  const socketOptions = {
    ca: [readFileSync(tls.caCert)],
    cert: readFileSync(tls.clientCert),
    key: readFileSync(tls.clientKey),
  };
  // A consumer like a Celery worker: it declares its queue, then takes what arrives.
  const consumer = await connect(rabbit.url(''), socketOptions);
  const channel = await consumer.createChannel();
  await channel.assertQueue('tls-runs', { durable: true });
  const received: Array<Record<string, unknown>> = [];
  await channel.consume(
    'tls-runs',
    (msg) => {
      if (msg) received.push(msg.properties.headers as Record<string, unknown>);
    },
    { noAck: true },
  );
  await dir.write('tls.yaml', intervalTask('over-tls', 1, { options: { queue: 'tls-runs' } }));
  const url = rabbit.url(query({ cacertfile: tls.caCert, certfile: tls.clientCert, keyfile: tls.clientKey }));
  const operator = startOperator(['--manifests', dir.path, '--redis-url', redis.url, '--broker-url', url]);
  try {
    await waitUntil('three runs over TLS', () => received.length >= 3, 20_000);
  } finally {
    await operator.stop();
    await consumer.close();
  }
  assert.equal(received[0]!.periodic_task_name, 'default/over-tls');
  assert.ok(
    operator.logs().every((l) => !JSON.stringify(l).includes(rabbit.password)),
    'no log line shows the password',
  );
});

test('a client certificate of another CA, or an unverifiable server, fails clearly without the password', async () => {
  const { tls } = rabbit;
  const cases: Array<[string, RegExp]> = [
    [
      query({ cacertfile: tls.caCert, certfile: tls.rogueClientCert, keyfile: tls.rogueClientKey }),
      /RabbitMQ broker amqps:\/\/celery-tls:\*\*\*@127\.0\.0\.1:\d+\/.* is not reachable: .*(certificate|alert|socket|ECONNRESET|closed)/i,
    ],
    [
      query({ cacertfile: tls.rogueCaCert, certfile: tls.clientCert, keyfile: tls.clientKey }),
      /is not reachable: .*(self[- ]signed|unable to verify|certificate)/i,
    ],
  ];
  for (const [params, message] of cases) {
    const broker = await createBroker(rabbit.url(params), { connectTimeoutMs: 3000 });
    const sent = await send(broker, 'tasks.add', [1, 2], {}, { queue: 'tls-runs' });
    await broker.close();
    assert.ok(!sent.outcome.ok, `${params} must fail`);
    assert.match(sent.outcome.error.message, message);
    assert.doesNotMatch(sent.outcome.error.message, new RegExp(rabbit.password));
  }
});

test('a CA file that does not exist fails at start, naming the parameter', async () => {
  await assert.rejects(
    createBroker(rabbit.url(query({ cacertfile: '/nonexistent/ca.crt' }))),
    /amqps:\/\/ cacertfile: cannot read \/nonexistent\/ca\.crt/,
  );
});
