import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { WorkQueue } from '../../../src/workqueue/work-queue.ts';

// Mocked before each queue is built, so that its default clock (Date.now) and its timer follow tick().
beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
afterEach(() => mock.timers.reset());

/** A queue without jitter (random 1 gives the whole delay), and a drain of what is ready. */
function rig(initialMs = 100, maxMs = 300) {
  let readyCalls = 0;
  const queue = new WorkQueue<string>({
    backoff: { initialMs, maxMs },
    random: () => 1,
    onReady: () => {
      readyCalls += 1;
    },
  });
  const take = (): string[] => {
    const keys: string[] = [];
    for (let key = queue.get(); key !== undefined; key = queue.get()) keys.push(key);
    return keys;
  };
  return { queue, take, readyCalls: () => readyCalls };
}

test('add hands keys out in order, each once, and tells onReady', () => {
  const { queue, take, readyCalls } = rig();
  queue.add('a');
  queue.add('b');
  queue.add('a');
  assert.equal(queue.length, 2);
  assert.equal(readyCalls(), 2, 'a key already ready is not announced again');
  assert.deepEqual(take(), ['a', 'b']);
  assert.equal(queue.get(), undefined);
});

test('a key is never handed out twice at once: added while processed, it comes again after done', () => {
  const { queue, take } = rig();
  queue.add('a');
  assert.deepEqual(take(), ['a']);
  queue.add('a');
  queue.add('a');
  assert.deepEqual(take(), [], 'not while it is being processed');
  queue.done('a');
  assert.deepEqual(take(), ['a'], 'once, after done');
  queue.done('a');
  assert.deepEqual(take(), [], 'nothing added meanwhile: nothing more');
});

test('addRateLimited waits 1×, 2×, 4× the initial delay, capped, until forget starts it over', () => {
  const { queue, take } = rig(100, 300);
  for (const [failure, expected] of [100, 200, 300, 300].entries()) {
    assert.equal(queue.addRateLimited('a'), expected, `delay after failure ${failure + 1}`);
    assert.equal(queue.isWaiting('a'), true);
    mock.timers.tick(expected - 1);
    assert.deepEqual(take(), [], `not ready 1 ms before ${expected} ms`);
    mock.timers.tick(1);
    assert.deepEqual(take(), ['a'], `ready after ${expected} ms`);
    assert.equal(queue.isWaiting('a'), false);
    queue.done('a');
  }
  assert.equal(queue.numRequeues('a'), 4);
  queue.forget('a');
  assert.equal(queue.numRequeues('a'), 0);
  assert.equal(queue.addRateLimited('a'), 100, 'back to the initial delay');
});

test('the backoff is jittered into the upper half of the delay', () => {
  let random = 0;
  const queue = new WorkQueue<string>({
    backoff: { initialMs: 100, maxMs: 1000 },
    random: () => random,
    onReady: () => {},
  });
  assert.equal(queue.addRateLimited('a'), 50);
  random = 0.5;
  assert.equal(queue.addRateLimited('a'), 150, 'second failure: 200 ms, three quarters of it');
  queue.clear();
});

test('forget drops a waiting key', () => {
  const { queue, take } = rig();
  queue.addRateLimited('a');
  queue.forget('a');
  assert.equal(queue.isWaiting('a'), false);
  mock.timers.tick(1000);
  assert.deepEqual(take(), []);
});

test('addAfter keeps the earlier of two times; add makes a waiting key ready at once', () => {
  const { queue, take } = rig();
  queue.addAfter('a', 300);
  queue.addAfter('a', 100);
  queue.addAfter('a', 200);
  mock.timers.tick(100);
  assert.deepEqual(take(), ['a']);
  queue.done('a');
  mock.timers.tick(1000);
  assert.deepEqual(take(), [], 'once');
  queue.addAfter('b', 500);
  queue.add('b');
  assert.equal(queue.isWaiting('b'), false);
  assert.deepEqual(take(), ['b']);
  queue.done('b');
  mock.timers.tick(1000);
  assert.deepEqual(take(), [], 'the delayed add is replaced by the immediate one');
  queue.addAfter('c', 0);
  assert.deepEqual(take(), ['c'], 'no delay: ready now');
});

test('keys come due in time order under one timer, however they were added', () => {
  const { queue, take } = rig(100, 10_000);
  queue.addAfter('late', 300);
  queue.addAfter('early', 100);
  queue.addAfter('middle', 200);
  queue.addAfter('also-early', 100);
  mock.timers.tick(100);
  assert.deepEqual(take(), ['early', 'also-early']);
  mock.timers.tick(100);
  assert.deepEqual(take(), ['middle']);
  mock.timers.tick(100);
  assert.deepEqual(take(), ['late']);
});

test('clear drops ready, waiting and counted keys; a key being processed still needs done', () => {
  const { queue, take } = rig();
  queue.add('busy');
  assert.deepEqual(take(), ['busy']);
  queue.add('a');
  queue.addRateLimited('b');
  queue.addRateLimited('b');
  queue.clear();
  assert.equal(queue.length, 0);
  mock.timers.tick(1000);
  assert.deepEqual(take(), []);
  assert.equal(queue.addRateLimited('b'), 100, 'failure counts are gone');
  queue.add('busy');
  assert.deepEqual(take(), [], 'still being processed');
  queue.done('busy');
  assert.deepEqual(take(), ['busy']);
});

test('an injected clock decides what is due', () => {
  let now = 1_000_000;
  const ready: string[] = [];
  const queue = new WorkQueue<string>({
    backoff: { initialMs: 100, maxMs: 100 },
    random: () => 1,
    clock: () => now,
    onReady: () => ready.push(queue.get() as string),
  });
  queue.addRateLimited('a');
  now += 50; // the clock says only half the delay has passed when the timer fires
  mock.timers.tick(100);
  assert.deepEqual(ready, [], 'not yet due by the clock');
  assert.equal(queue.isWaiting('a'), true);
  now += 50;
  mock.timers.tick(50);
  assert.deepEqual(ready, ['a']);
});

test('an invalid backoff is refused, naming its values', () => {
  assert.throws(
    () => new WorkQueue({ backoff: { initialMs: 0, maxMs: 10 }, onReady: () => {} }),
    /invalid backoff: initialMs must be > 0 and maxMs >= initialMs \(got 0, 10\)/,
  );
});
