import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  claimRecord,
  heldByOther,
  recordFingerprint,
  releaseRecord,
} from '../../../src/leadership/lease-record.ts';
import { DEFAULT_TIMINGS, validateTimings } from '../../../src/leadership/lease-timings.ts';

const now = new Date('2026-11-25T09:00:00.123Z');

test('the defaults are client-go/controller-runtime values and pass its validation', () => {
  assert.deepEqual(DEFAULT_TIMINGS, {
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
  validateTimings(DEFAULT_TIMINGS);
  assert.throws(
    () => validateTimings({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    /lease duration .* must be greater than the renew deadline/,
  );
  assert.throws(
    () => validateTimings({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    /renew deadline .* must be greater than 1.2 × retry period/,
  );
});

test('expiry is judged by when we observed the record, whatever its timestamps say', () => {
  const spec = {
    holderIdentity: 'other',
    leaseDurationSeconds: 15,
    // A renewTime from a clock far in the past must not make the lease look expired.
    renewTime: '2000-01-01T00:00:00.000000Z',
  };
  const seen = 1_000_000;
  assert.ok(heldByOther(spec, 'me', seen, seen + 14_999));
  assert.ok(!heldByOther(spec, 'me', seen, seen + 15_000));
  assert.ok(!heldByOther({ ...spec, holderIdentity: 'me' }, 'me', seen, seen + 1));
  assert.ok(!heldByOther({ ...spec, holderIdentity: '' }, 'me', seen, seen + 1), 'a released lease is free');
});

test('claiming: a new holder counts a transition; renewing keeps acquireTime and transitions', () => {
  const created = claimRecord(undefined, 'me', 15, now);
  assert.equal(created.leaseTransitions, 0);
  assert.equal(created.holderIdentity, 'me');
  assert.equal(JSON.stringify(created.renewTime), '"2026-11-25T09:00:00.123000Z"', 'MicroTime has 6 digits');
  const taken = claimRecord(
    { holderIdentity: 'other', leaseTransitions: 4, leaseDurationSeconds: 15 },
    'me',
    15,
    now,
  );
  assert.equal(taken.leaseTransitions, 5);
  const acquireTime = '2026-11-25T08:00:00.000000Z';
  const renewed = claimRecord(
    { holderIdentity: 'me', leaseTransitions: 5, acquireTime: acquireTime },
    'me',
    15,
    now,
  );
  assert.equal(renewed.leaseTransitions, 5);
  assert.equal(renewed.acquireTime, acquireTime);
  // MicroTime on the wire: six fractional digits, as the API server writes it.
  assert.equal(renewed.renewTime, '2026-11-25T09:00:00.123000Z');
});

test('release clears the holder with a 1 s duration and keeps the transition count', () => {
  const released = releaseRecord(
    { holderIdentity: 'me', leaseTransitions: 7, leaseDurationSeconds: 15 },
    now,
  );
  assert.equal(released.holderIdentity, '');
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 7);
});

test('fingerprints tell records apart by their holder and times', () => {
  const a = recordFingerprint({
    holderIdentity: 'x',
    renewTime: '2026-11-25T09:00:00.123000Z',
  });
  const b = recordFingerprint({
    holderIdentity: 'x',
    renewTime: '2026-11-25T09:00:00.123000Z',
  });
  assert.equal(a, b);
  assert.notEqual(a, recordFingerprint({ holderIdentity: 'y', renewTime: '2026-11-25T09:00:00.123000Z' }));
});
