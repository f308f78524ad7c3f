import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, describeApiError, httpStatus, isRetryable } from '../../../src/kube/api-errors.ts';
import { jitter } from '../../../src/leadership/lease-timings.ts';
import { TokenBucket } from '../../../src/timing/token-bucket.ts';

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

test("the leader elector's jitter is client-go's: [d, d × (1 + factor))", () => {
  assert.equal(
    jitter(2000, 1.2, () => 0.5),
    3200,
  );
  assert.equal(
    jitter(2000, 1.2, () => 0),
    2000,
  );
});

test('API errors are classified by HTTP status', () => {
  const conflict = new ApiError(
    'PUT /apis/coordination.k8s.io/v1/namespaces/ops/leases/x',
    409,
    JSON.stringify({ kind: 'Status', message: 'the object has been modified', reason: 'Conflict' }),
  );
  assert.equal(httpStatus(conflict), 409);
  assert.equal(conflict.serverStatus?.reason, 'Conflict');
  assert.equal(describeApiError(conflict), 'HTTP 409: the object has been modified');
  assert.match(conflict.message, /^PUT \/apis\/coordination.* HTTP 409: the object has been modified$/);
  assert.ok(isRetryable(conflict));
  assert.ok(isRetryable(new Error('ECONNREFUSED')));
  assert.ok(isRetryable(new ApiError('GET /x', 503, 'upstream connect error')));
  assert.equal(
    new ApiError('GET /x', 503, 'upstream connect error').message,
    'GET /x: HTTP 503: upstream connect error',
  );
  assert.ok(!isRetryable(new ApiError('PATCH /x', 422, '{}')));
  assert.ok(!isRetryable(new ApiError('PATCH /x', 403, '{}')));
  // A watch ERROR event's object: a Status with its code.
  assert.equal(httpStatus({ kind: 'Status', code: 410, reason: 'Expired' }), 410);
});
