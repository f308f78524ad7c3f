import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeApiError, httpStatus, isRetryable } from '../../../src/kube/api-errors.ts';
import { backoffDelay, jitter } from '../../../src/kube/backoff.ts';
import { TokenBucket } from '../../../src/kube/token-bucket.ts';

test('token bucket allows a burst, then qps', () => {
  const bucket = new TokenBucket(2, 3, 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 500);
  assert.ok(bucket.take(499) <= 2, 'almost refilled');
  assert.equal(bucket.take(500), 0);
  assert.equal(bucket.take(10_000), 0, 'refills, capped at burst');
  assert.equal(bucket.take(10_000), 0);
  assert.equal(bucket.take(10_000), 0);
  assert.ok(bucket.take(10_000) > 0);
  assert.throws(() => new TokenBucket(0, 1), /qps must be > 0/);
});

test('backoff doubles, is capped, and is jittered into the upper half', () => {
  const policy = { initialMs: 500, maxMs: 30_000 };
  assert.equal(
    backoffDelay(1, policy, () => 1),
    500,
  );
  assert.equal(
    backoffDelay(1, policy, () => 0),
    250,
  );
  assert.equal(
    backoffDelay(4, policy, () => 1),
    4000,
  );
  assert.equal(
    backoffDelay(30, policy, () => 1),
    30_000,
  );
  assert.equal(
    jitter(2000, 1.2, () => 0.5),
    3200,
  );
});

test('API errors are classified by HTTP status', () => {
  const conflict = Object.assign(new Error('HTTP-Code: 409\nMessage: Conflict'), {
    code: 409,
    body: JSON.stringify({ kind: 'Status', message: 'the object has been modified' }),
  });
  assert.equal(httpStatus(conflict), 409);
  assert.equal(describeApiError(conflict), 'HTTP 409: the object has been modified');
  assert.ok(isRetryable(conflict));
  assert.ok(isRetryable(new Error('ECONNREFUSED')));
  assert.ok(isRetryable({ statusCode: 503 }));
  assert.ok(!isRetryable({ code: 422 }));
  assert.ok(!isRetryable({ code: 403 }));
});
