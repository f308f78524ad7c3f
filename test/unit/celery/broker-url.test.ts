import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBroker } from '../../../src/celery/broker.ts';
import { brokerScheme } from '../../../src/celery/broker-url.ts';
import { priorityListKey, redisRouteFor } from '../../../src/celery/redis-routing.ts';
import { redactUrl } from '../../../src/observe/redact-url.ts';

test('credentials never survive redaction', () => {
  assert.equal(redactUrl('amqp://guest:s3cret@rabbit:5672/vh'), 'amqp://guest:***@rabbit:5672/vh');
  assert.equal(redactUrl('rediss://:s3cret@redis:6380/0'), 'rediss://:***@redis:6380/0');
  assert.equal(redactUrl('redis://s3cret@redis:6379'), 'redis://***@redis:6379');
  assert.equal(redactUrl('redis://redis:6379?password=s3cret'), 'redis://redis:6379?password=***');
  assert.equal(redactUrl('not a url s3cret'), '<unparseable URL>');
  assert.equal(
    redactUrl('redis+sentinel://u:s3cret@s1:26379,s2:26379/m/0?sentinel_password=s3cret'),
    'redis+sentinel://u:***@s1:26379,s2:26379/m/0?sentinel_password=***',
  );
});

test('the scheme chooses the transport; others fail clearly without echoing secrets', async () => {
  assert.equal(brokerScheme('redis://h'), 'redis');
  assert.equal(brokerScheme('rediss://h'), 'rediss');
  assert.equal(brokerScheme('amqp://h'), 'amqp');
  assert.equal(brokerScheme('amqps://h'), 'amqps');
  assert.equal(brokerScheme('redis+sentinel://:pw@s1:26379,s2:26379/mymaster/0'), 'redis');
  assert.equal(brokerScheme('rediss+sentinel://s1/mymaster'), 'rediss');
  await assert.rejects(createBroker('sqs://user:s3cret@queue'), (err: Error) => {
    assert.match(
      err.message,
      /scheme sqs:\/\/; supported: redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/, rediss\+sentinel:\/\/, amqp:\/\/, amqps:\/\//,
    );
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
  await assert.rejects(createBroker('s3cret'), /not a URL/);
});

test('Redis priority buckets follow kombu: 0-2, 3-5, 6-8, 9 and above', () => {
  const sep = '\x06\x16';
  assert.equal(priorityListKey('q', 0), 'q');
  assert.equal(priorityListKey('q', 2), 'q');
  assert.equal(priorityListKey('q', 3), `q${sep}3`);
  assert.equal(priorityListKey('q', 5), `q${sep}3`);
  assert.equal(priorityListKey('q', 7), `q${sep}6`);
  assert.equal(priorityListKey('q', 9), `q${sep}9`);
  assert.equal(priorityListKey('q', 255), `q${sep}9`);
  assert.equal(priorityListKey('q'), 'q');
});

test('routing: anonymous exchange and the queue by default, the exchange and key when given', () => {
  assert.deepEqual(redisRouteFor({ queue: 'q2', headers: {} }), { exchange: '', routingKey: 'q2' });
  assert.deepEqual(redisRouteFor({ queue: 'q2', exchange: '', routingKey: 'x', headers: {} }), {
    exchange: '',
    routingKey: 'q2',
  });
  assert.deepEqual(redisRouteFor({ queue: 'q2', exchange: 'ex', routingKey: 'rk', headers: {} }), {
    exchange: 'ex',
    routingKey: 'rk',
  });
  assert.deepEqual(redisRouteFor({ queue: 'q2', exchange: 'ex', headers: {} }), {
    exchange: 'ex',
    routingKey: 'q2',
  });
});
