import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { TaskOptions } from '../../../src/api/types.ts';
import { buildTaskMessage, type TaskMessageInput } from '../../../src/celery/message.ts';
import { UnsafeMessageError } from '../../../src/celery/message-check.ts';
import { encodeRedisEnvelope } from '../../../src/celery/redis-envelope.ts';
import { redisRouteFor } from '../../../src/celery/redis-routing.ts';
import { redisShape, withoutOperatorHeaders } from './envelope-shape.ts';

const fixture = (path: string): string =>
  readFileSync(new URL(`../../fixtures/celery/${path}`, import.meta.url), 'utf8');

const SLOT = Date.parse('2026-11-24T07:00:30Z');

function input(options: Partial<TaskOptions>, extra: Partial<TaskMessageInput> = {}): TaskMessageInput {
  return {
    task: 'tasks.add',
    id: '5d0c1b2e-0000-5000-8000-000000000001',
    args: [2, 3],
    kwargs: { x: 1 },
    options: { queue: 'celery', headers: {}, ...options },
    scheduledAt: SLOT,
    periodicTaskName: 'default/add',
    namespace: 'default',
    now: SLOT,
    ...extra,
  };
}

// Every captured send_task envelope whose options exist in a PeriodicTask, with those options.
const CASES: {
  file: string;
  options: Partial<TaskOptions>;
  keep?: string[];
  name?: string;
  ignore?: string[];
}[] = [
  { file: 'redis/default.json', options: {} },
  { file: 'redis/custom_queue.json', options: { queue: 'q2' } },
  { file: 'redis/priority_0.json', options: { priority: 0 } },
  { file: 'redis/priority_3.json', options: { priority: 3 } },
  { file: 'redis/priority_5.json', options: { priority: 5 } },
  { file: 'redis/priority_7.json', options: { priority: 7 } },
  { file: 'redis/priority_9.json', options: { priority: 9 } },
  { file: 'redis/expires_seconds.json', options: { expires: 60 } },
  {
    file: 'redis/custom_headers.json',
    options: { headers: { foo: 'bar' } },
    keep: ['periodic_task_name'],
    name: 'every-minute',
  },
  { file: 'redis/exchange_routing_bound.json', options: { queue: 'hipri' } },
  {
    file: 'redis/exchange_routing_explicit_after_bind.json',
    options: { exchange: 'tasks_ex', routingKey: 'hi.key' },
  },
  // shadow and ignore_result are not PeriodicTask options; everything else of this capture must match.
  {
    file: 'redis/timelimits_shadow_ignore_result.json',
    options: { timeLimit: 30, softTimeLimit: 20 },
    ignore: ['shadow', 'ignore_result'],
  },
  {
    file: 'redis/full_combo.json',
    options: { queue: 'q2', priority: 5, expires: 120 },
    keep: ['periodic_task_name'],
    name: 'combo',
  },
  {
    file: 'beat/beat_send_task_path__q2_x06_x163.json',
    options: { queue: 'q2', priority: 5, expires: 30 },
    keep: ['periodic_task_name'],
    name: 'every-3s-opts',
  },
  { file: 'beat/beat_send_task_path__celery.json', options: {} },
  { file: 'beat/beat_apply_async_path__celery.json', options: {} },
];

test('the Redis envelope equals every captured send_task envelope, ids and clock values aside', () => {
  for (const c of CASES) {
    const captured = redisShape(fixture(c.file));
    const msg = buildTaskMessage(input(c.options, c.name ? { periodicTaskName: c.name } : {}));
    const ours = redisShape(
      encodeRedisEnvelope(msg, redisRouteFor({ queue: 'celery', headers: {}, ...c.options }), SLOT),
    );
    ours.headers = withoutOperatorHeaders(ours.headers, c.keep);
    for (const h of c.ignore ?? []) {
      delete ours.headers[h];
      delete captured.headers[h];
    }
    assert.deepEqual(ours, captured, c.file);
  }
});

test('the body is the three-element [args, kwargs, embed] and headers carry the slot', () => {
  const msg = buildTaskMessage(
    input({ expires: 60, timeLimit: 30, softTimeLimit: 20, headers: { tenant: 'acme' } }),
  );
  assert.deepEqual(JSON.parse(msg.body), [
    [2, 3],
    { x: 1 },
    { callbacks: null, errbacks: null, chain: null, chord: null },
  ]);
  assert.equal(msg.headers.periodic_task_name, 'default/add');
  assert.equal(msg.headers.periodic_task_scheduled_at, '2026-11-24T07:00:30+00:00');
  assert.equal(msg.headers.periodic_task_namespace, 'default');
  assert.equal(
    Object.hasOwn(msg.headers, 'original_periodic_task_name'),
    false,
    'only an imported task has one',
  );
  assert.equal(msg.headers.expires, '2026-11-24T07:01:30+00:00');
  assert.equal(msg.properties.expiration, '60000');
  assert.deepEqual(msg.headers.timelimit, [30, 20]);
  assert.equal(msg.headers.tenant, 'acme');
  assert.equal(msg.headers.root_id, msg.headers.id);
  assert.equal(msg.properties.correlation_id, msg.headers.id);
});

test('the original name of an imported task is its own header, after the namespace', () => {
  const msg = buildTaskMessage(input({ headers: { tenant: 'acme' } }, { originalName: 'Nightly Report' }));
  assert.equal(msg.headers.original_periodic_task_name, 'Nightly Report');
  assert.deepEqual(Object.keys(msg.headers).slice(-5), [
    'tenant',
    'periodic_task_name',
    'periodic_task_scheduled_at',
    'periodic_task_namespace',
    'original_periodic_task_name',
  ]);
});

test('expiration counts from the slot: a late publish gets the remaining time', () => {
  const msg = buildTaskMessage(input({ expires: 60 }, { now: SLOT + 45_500 }));
  assert.equal(msg.properties.expiration, '14500');
  assert.equal(msg.headers.expires, '2026-11-24T07:01:30+00:00');
});

test('a run whose expiry has passed when it is built is refused as expired', () => {
  assert.throws(
    () => buildTaskMessage(input({ expires: 60 }, { now: SLOT + 60_000 })),
    (err: unknown) => err instanceof UnsafeMessageError && err.reason === 'expired',
  );
  buildTaskMessage(input({ expires: 60 }, { now: SLOT + 59_999 }));
});

test('argsrepr is Python-style text and non-ASCII stays readable', () => {
  const msg = buildTaskMessage(input({}, { args: ['héllo', true, null, 1.5], kwargs: { ключ: { a: [1] } } }));
  assert.equal(msg.headers.argsrepr, "['héllo', True, None, 1.5]");
  assert.equal(msg.headers.kwargsrepr, "{'ключ': {'a': [1]}}");
});

test('user headers cannot replace protocol headers', () => {
  for (const name of [
    'id',
    'task',
    'eta',
    'expires',
    'periodic_task_name',
    'periodic_task_namespace',
    'original_periodic_task_name',
  ]) {
    assert.throws(
      () => buildTaskMessage(input({ headers: { [name]: 'x' } })),
      (err: unknown) => err instanceof UnsafeMessageError && err.message.includes(`options.headers.${name}`),
    );
  }
});

test('values JSON cannot carry are refused with the path that holds them', () => {
  const bad: [unknown[], Record<string, unknown>, string][] = [
    [[Number.NaN], {}, 'args[0] is NaN'],
    [[1, Number.POSITIVE_INFINITY], {}, 'args[1] is Infinity'],
    [[10n], {}, 'args[0] is a BigInt'],
    [[], { a: undefined }, 'kwargs.a is undefined'],
    [[], { when: new Date(0) }, 'kwargs.when is a Date'],
    [[], { s: 'a\ud800b' }, 'lone UTF-16 surrogate'],
    [new Array(2), {}, 'hole in a sparse array'],
  ];
  for (const [args, kwargs, text] of bad) {
    assert.throws(
      () => buildTaskMessage(input({}, { args, kwargs })),
      (err: unknown) => err instanceof UnsafeMessageError && err.message.includes(text),
      text,
    );
  }
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.throws(() => buildTaskMessage(input({}, { kwargs: circular })), /nested deeper than|circular/);
  assert.throws(
    () => buildTaskMessage(input({}, { args: {} as unknown as unknown[] })),
    /args must be a list/,
  );
  assert.throws(
    () => buildTaskMessage(input({}, { kwargs: [] as unknown as Record<string, unknown> })),
    /kwargs must be an object/,
  );
});
