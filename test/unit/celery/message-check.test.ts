import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import { checkTaskMessage, UnsafeMessageError } from '../../../src/celery/message-check.ts';
import { encodeRedisEnvelope } from '../../../src/celery/redis-envelope.ts';
import type { TaskMessage } from '../../../src/contracts.ts';

const fixture = (path: string): string =>
  readFileSync(new URL(`../../fixtures/celery/${path}`, import.meta.url), 'utf8');

/** A hand-made Redis envelope (from the captured failure table) seen as the transport-neutral message. */
function asTaskMessage(envelopeText: string): TaskMessage {
  const env = JSON.parse(envelopeText) as Record<string, unknown>;
  const props = (env.properties ?? {}) as Record<string, unknown>;
  const body =
    props.body_encoding === 'base64'
      ? Buffer.from(String(env.body), 'base64').toString('utf8')
      : String(env.body);
  const { delivery_info: _i, delivery_tag: _t, body_encoding: _b, ...properties } = props;
  // Hand-made messages leave out what workers default; fill that in so only the captured defect remains.
  const headers = env.headers as Record<string, unknown> | undefined;
  const defaults = {
    correlation_id: String(headers?.id ?? 'x'),
    reply_to: '',
    delivery_mode: 2,
    priority: 0,
  };
  return {
    headers: headers as Record<string, unknown>,
    properties: { ...defaults, ...properties } as unknown as TaskMessage['properties'],
    body,
    contentType: env['content-type'] as 'application/json',
    contentEncoding: (env['content-encoding'] ?? 'utf-8') as 'utf-8',
  };
}

const index = JSON.parse(fixture('redis-handcrafted/index.json')) as Record<
  string,
  { class: string; file: string }
>;
// Defects of the Redis envelope itself: our encoder always writes these fields (tested below).
const ENVELOPE_LEVEL = new Set([
  'hc_body_not_base64',
  'hc_no_delivery_info',
  'hc_no_delivery_tag',
  'hc_not_json_envelope',
]);
// A publisher cannot know which task names the workers registered.
const NOT_DETECTABLE = new Set(['hc_unknown_task']);

// The refusal must name the captured defect, not something else.
const EXPECTED_REASON: Record<string, RegExp> = {
  hc_expires_past_utc: /expired at/,
  hc_expires_naive_past: /expired at/,
  hc_expires_invalid: /header expires/,
  hc_eta_invalid: /header eta/,
  hc_missing_task_header: /header task/,
  hc_headers_missing: /headers must be an object/,
  hc_content_type_text_plain: /content type/,
  hc_content_type_json_charset: /content type/,
  hc_content_type_pickle: /content type/,
  hc_content_type_missing: /content type/,
  hc_body_two_elements: /3-element/,
  hc_kwargs_not_mapping: /kwargs \(element 1\)/,
  hc_missing_id_header: /header id/,
};

test('every message a worker rejected or crashed on in the captured failure table is refused', () => {
  let refused = 0;
  for (const [name, entry] of Object.entries(index)) {
    if (entry.class === 'ok' || ENVELOPE_LEVEL.has(name) || NOT_DETECTABLE.has(name)) continue;
    const msg = asTaskMessage(fixture(entry.file));
    const why = EXPECTED_REASON[name];
    assert.ok(why, `no expected reason for ${name}`);
    assert.throws(
      () => checkTaskMessage(msg),
      (err: unknown) => err instanceof UnsafeMessageError && why.test(err.message),
      name,
    );
    refused++;
  }
  assert.ok(refused >= 12, `expected the table's message-level defects, checked ${refused}`);
});

test('an expired message is refused with reason expired, a malformed one with reason invalid', () => {
  const expired = asTaskMessage(fixture('redis-handcrafted/hc_expires_past_utc.json'));
  assert.throws(
    () => checkTaskMessage(expired),
    (err: unknown) =>
      err instanceof UnsafeMessageError && err.reason === 'expired' && /expired at/.test(err.message),
  );
  const noId = asTaskMessage(fixture('redis-handcrafted/hc_missing_id_header.json'));
  assert.throws(
    () => checkTaskMessage(noId),
    (err: unknown) =>
      err instanceof UnsafeMessageError && err.reason === 'invalid' && /header id/.test(err.message),
  );
});

test('a full Celery-like hand-made message that workers ran is accepted', () => {
  checkTaskMessage(asTaskMessage(fixture('redis-handcrafted/hc_replica_full.json')));
});

test('structural defects are named', () => {
  const good = buildTaskMessage({
    task: 'tasks.add',
    id: 'a',
    args: [1],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    scheduledAt: Date.now(),
    periodicTaskName: 'ns/t',
    namespace: 'ns',
  });
  checkTaskMessage(good);
  const cases: [Partial<TaskMessage>, RegExp][] = [
    [{ body: '[[1], {}]' }, /3-element/],
    [{ body: '[{}, {}, {}]' }, /args \(element 0\) must be a list/],
    [{ body: '[[], [], {}]' }, /kwargs \(element 1\) must be an object/],
    [{ body: '[[], {}, null]' }, /embed/],
    [{ body: 'nope' }, /not JSON/],
    [{ contentType: 'application/json; charset=utf-8' as 'application/json' }, /exactly application\/json/],
    [{ headers: { ...good.headers, id: '' } }, /header id/],
    [{ headers: { ...good.headers, task: undefined } }, /header task/],
    [{ headers: { ...good.headers, eta: 'tomorrow' } }, /header eta/],
    [{ headers: { ...good.headers, timelimit: [20] } }, /timelimit/],
    [{ headers: { ...good.headers, x: Number.NaN } }, /header x is NaN/],
    [{ properties: { ...good.properties, priority: 300 } }, /priority/],
  ];
  for (const [patch, pattern] of cases) {
    assert.throws(() => checkTaskMessage({ ...good, ...patch }), pattern, String(pattern));
  }
});

test('every Redis envelope carries what a worker needs before it can even read the message', () => {
  const msg = buildTaskMessage({
    task: 'tasks.add',
    id: 'b',
    args: ['ü'],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    scheduledAt: Date.now(),
    periodicTaskName: 'ns/t',
    namespace: 'ns',
  });
  const a = JSON.parse(encodeRedisEnvelope(msg, { exchange: '', routingKey: 'celery' }));
  const b = JSON.parse(encodeRedisEnvelope(msg, { exchange: '', routingKey: 'celery' }));
  assert.match(a.properties.delivery_tag, /^[0-9a-f-]{36}$/);
  assert.notEqual(a.properties.delivery_tag, b.properties.delivery_tag);
  assert.deepEqual(a.properties.delivery_info, { exchange: '', routing_key: 'celery' });
  assert.equal(a.properties.body_encoding, 'base64');
  assert.equal(Buffer.from(a.body, 'base64').toString('utf8'), msg.body);
  assert.equal(a['content-type'], 'application/json');
  assert.throws(
    () => encodeRedisEnvelope({ ...msg, body: '[1, 2]' }, { exchange: '', routingKey: 'celery' }),
    UnsafeMessageError,
  );
});
