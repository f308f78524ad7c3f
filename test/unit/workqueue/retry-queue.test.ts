import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { RetryQueue } from '../../../src/workqueue/retry-queue.ts';

// Mocked before each queue is built, so that its default clock (Date.now) and its timer follow tick().
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

function queue(baseMs = 100, maxMs = 300): { retries: RetryQueue; calls: string[][] } {
  const calls: string[][] = [];
  const retries = new RetryQueue({ baseMs, maxMs, onDue: (keys) => calls.push(keys) });
  return { retries, calls };
}

test('delays grow 1×, 2×, 4× the base, capped at the maximum', () => {
  const { retries, calls } = queue(100, 300);
  for (const [failure, expected] of [100, 200, 300, 300].entries()) {
    assert.equal(retries.retryLater('a'), expected, `delay after failure ${failure + 1}`);
    mock.timers.tick(expected - 1);
    assert.equal(calls.length, failure, `not due 1 ms before ${expected} ms`);
    mock.timers.tick(1);
    assert.deepEqual(calls.at(-1), ['a'], `due after ${expected} ms`);
  }
});

test('isWaiting is true from retryLater until the key is handed to onDue', () => {
  const { retries } = queue();
  assert.equal(retries.isWaiting('a'), false);
  retries.retryLater('a');
  assert.equal(retries.isWaiting('a'), true);
  assert.equal(retries.isWaiting('b'), false);
  assert.equal(retries.size, 1);
  mock.timers.tick(100);
  assert.equal(retries.isWaiting('a'), false);
  assert.equal(retries.size, 0);
});

test('forget cancels a waiting retry and starts the backoff over', () => {
  const { retries, calls } = queue();
  retries.retryLater('a');
  mock.timers.tick(100);
  retries.retryLater('a');
  retries.forget('a');
  assert.equal(retries.isWaiting('a'), false);
  mock.timers.tick(1000);
  assert.equal(calls.length, 1, 'no call for a forgotten key');
  assert.equal(retries.retryLater('a'), 100, 'back to the base delay');
});

test('keys due together come in one call; a key rescheduled while waiting comes once, at its new time', () => {
  const { retries, calls } = queue();
  retries.retryLater('c');
  mock.timers.tick(100);
  retries.retryLater('c'); // second failure: 200 ms, due at 300
  retries.retryLater('a');
  retries.retryLater('b');
  mock.timers.tick(100);
  assert.deepEqual(calls, [['c'], ['a', 'b']]);
  mock.timers.tick(99);
  assert.equal(calls.length, 2);
  mock.timers.tick(1);
  assert.deepEqual(calls, [['c'], ['a', 'b'], ['c']]);
  retries.retryLater('d');
  mock.timers.tick(50);
  retries.retryLater('d'); // rescheduled before it was due: the earlier time no longer counts
  mock.timers.tick(50);
  assert.equal(calls.length, 3);
  mock.timers.tick(150);
  assert.deepEqual(calls.at(-1), ['d']);
  assert.equal(calls.length, 4);
});

test('a key due earlier than the armed timer is handed over at its own time', () => {
  const { retries, calls } = queue(100, 1000);
  retries.retryLater('slow');
  mock.timers.tick(100);
  retries.retryLater('slow'); // due in 200 ms
  retries.retryLater('fast'); // due in 100 ms
  mock.timers.tick(100);
  assert.deepEqual(calls.at(-1), ['fast']);
  mock.timers.tick(100);
  assert.deepEqual(calls.at(-1), ['slow']);
});

test('clear drops every waiting key and every failure count', () => {
  const { retries, calls } = queue();
  retries.retryLater('a');
  mock.timers.tick(100);
  retries.retryLater('a');
  retries.retryLater('b');
  retries.clear();
  assert.equal(retries.size, 0);
  mock.timers.tick(1000);
  assert.equal(calls.length, 1);
  assert.equal(retries.retryLater('a'), 100);
  mock.timers.tick(100);
  assert.deepEqual(calls.at(-1), ['a'], 'the timer works again after clear');
});

test('an injected clock decides what is due', () => {
  let now = 1_000_000;
  const calls: string[][] = [];
  const retries = new RetryQueue({ baseMs: 100, onDue: (keys) => calls.push(keys), clock: () => now });
  retries.retryLater('a');
  now += 50; // the clock says only half the delay has passed when the timer fires
  mock.timers.tick(100);
  assert.equal(calls.length, 0, 'not yet due by the clock');
  assert.equal(retries.isWaiting('a'), true);
  now += 50;
  mock.timers.tick(50);
  assert.deepEqual(calls, [['a']]);
});
