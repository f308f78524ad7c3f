// Queue, exchange and routing-key names that would reach what is not the task's: kombu's keys, Celery's
// remote-control and event exchanges and queues, the operator's own keys and the task keys under its prefix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';

const FIELDS = ['queue', 'exchange', 'routingKey'] as const;

function verdict(options: Record<string, unknown>, keyPrefix?: string) {
  return validatePeriodicTask(
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'demo', namespace: 'team-a' },
      spec: { task: 'tasks.add', interval: { every: 10, period: 'seconds' }, options },
    },
    keyPrefix === undefined ? { defaultTimeZone: 'UTC' } : { defaultTimeZone: 'UTC', keyPrefix },
  );
}

/** The messages of the errors naming `field`, joined. */
function refusal(options: Record<string, unknown>, field: string, keyPrefix?: string): string {
  const r = verdict(options, keyPrefix);
  assert.ok(!r.ok, `${JSON.stringify(options)} was accepted`);
  const messages = r.errors.filter((e) => e.field === field).map((e) => e.message);
  assert.ok(messages.length > 0, `no error names ${field}: ${JSON.stringify(r.errors)}`);
  return messages.join('; ');
}

const REFUSED: ReadonlyArray<[string, RegExp]> = [
  ['_kombu.binding.celery', /kombu's own Redis keys/],
  ['_kombu.binding.celery.pidbox', /kombu's own Redis keys/],
  ['unacked', /kombu's own Redis keys/],
  ['unacked_index', /kombu's own Redis keys/],
  ['unacked_mutex', /kombu's own Redis keys/],
  ['celery\x06\x163', /separator/],
  ['unacked\x06\x169', /kombu's own Redis keys/],
  ['celery.pidbox', /remote-control/],
  ['reply.celery.pidbox', /remote-control/],
  ['worker1@host.celery.pidbox', /remote-control/],
  ['0c4c1e36-9f3b.reply.celery.pidbox', /remote-control/],
  ['celeryev', /event/],
  ['celeryev.87dfa9c0-3bee-489e-aac7-e21e19fbe35c', /event/],
  ['celerybeat-operator:leader:tasks:meta:', /operator's own keys/],
  ['celerybeat-operator:manual:tasks:meta:team-b/x', /operator's own keys/],
  ['tasks:meta:team-b/later', /key prefix "tasks:meta:"/],
  ['tasks:meta:', /key prefix "tasks:meta:"/],
];

test('reserved names are refused in queue, exchange and routing key, naming the field and why', () => {
  for (const field of FIELDS) {
    for (const [name, why] of REFUSED) {
      const message = refusal({ [field]: name }, `spec.options.${field}`);
      assert.match(message, why, `${field} ${JSON.stringify(name)}: ${message}`);
      assert.ok(message.includes(JSON.stringify(name)), `the message shows the value: ${message}`);
    }
  }
});

test("a queue under another namespace's task key is InvalidSpec naming spec.options.queue", () => {
  const message = refusal({ queue: 'tasks:meta:team-b/later' }, 'spec.options.queue');
  assert.match(message, /must not start with the operator's key prefix "tasks:meta:"/);
});

test('the key prefix is the operator’s: names under it are refused, the default prefix is then free', () => {
  const field = 'spec.options.queue';
  assert.match(refusal({ queue: '{beat}:team-b/x' }, field, '{beat}:'), /key prefix "\{beat\}:"/);
  assert.ok(verdict({ queue: 'tasks:meta:team-b/x' }, '{beat}:').ok);
  assert.match(refusal({ exchange: 'q:x', routingKey: 'q:y' }, 'spec.options.routingKey', 'q:'), /"q:y"/);
});

test('ordinary names, and names that only look like reserved ones, are accepted', () => {
  for (const name of [
    'celery',
    'emails.high',
    'tasks:metadata',
    'tasks:meta',
    'pidbox-worker',
    'my.pidbox.queue',
    'celeryevents',
    'kombu.binding',
    'unacked_jobs',
    'celerybeat-operator',
    'team-b/later',
  ]) {
    const r = verdict({ queue: name, exchange: name, routingKey: name });
    assert.ok(r.ok, `${name}: ${r.ok ? '' : JSON.stringify(r.errors)}`);
  }
  assert.ok(verdict({ exchange: '', routingKey: '' }).ok, 'the default exchange and an empty routing key');
});
