import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, KeyedBackoff } from '../../../src/workqueue/backoff.ts';

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
    backoffDelay(30, policy, () => 0),
    15_000,
    'jittered at the cap too',
  );
});

test('each key counts its own failures until forgotten', () => {
  const backoff = new KeyedBackoff<string>({ initialMs: 100, maxMs: 1000 }, () => 1);
  assert.deepEqual(
    [backoff.when('a'), backoff.when('a'), backoff.when('b'), backoff.when('a')],
    [100, 200, 100, 400],
  );
  assert.equal(backoff.failures('a'), 3);
  backoff.forget('a');
  assert.equal(backoff.failures('a'), 0);
  assert.equal(backoff.when('a'), 100);
  assert.equal(backoff.when('b'), 200);
  backoff.clear();
  assert.equal(backoff.when('b'), 100);
});
