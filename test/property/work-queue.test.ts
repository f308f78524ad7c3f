// The work queue's invariants over random sequences of adds, delays, backoffs, forgets, gets, dones and time,
// under a simulated clock: every key added is handed out, never twice at once, a key added while being
// processed comes again after done, nothing comes that was not added, and forget resets the backoff.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import fc from 'fast-check';
import { WorkQueue } from '../../src/workqueue/work-queue.ts';
import { check } from './fc-config.ts';

const FILE = 'test/property/work-queue.test.ts';
const INITIAL_MS = 10;
const MAX_MS = 80;

type Op =
  | { op: 'add' | 'rateLimited' | 'forget'; key: string }
  | { op: 'after'; key: string; ms: number }
  | { op: 'get' }
  | { op: 'done'; pick: number }
  | { op: 'tick'; ms: number };

const key = fc.constantFrom('a', 'b', 'c', 'd');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('add' as const, 'rateLimited' as const, 'forget' as const), key }),
  fc.record({ op: fc.constant('after' as const), key, ms: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ op: fc.constant('get' as const) }),
  fc.record({ op: fc.constant('done' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 60 }) }),
);

function run(ops: Op[]): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    const queue = new WorkQueue<string>({
      backoff: { initialMs: INITIAL_MS, maxMs: MAX_MS },
      random: () => 1,
      onReady: () => {},
    });
    // The model: keys owed a hand-out (added since their last one), delayed adds by due time, keys being
    // processed, and failures counted for the backoff.
    const owed = new Set<string>();
    const waiting = new Map<string, number>();
    const processing = new Set<string>();
    const failures = new Map<string, number>();
    let now = 0;
    const take = (): void => {
      const got = queue.get();
      if (got === undefined) {
        const ready = [...owed].filter((k) => !processing.has(k));
        assert.deepEqual(ready, [], 'a ready key was not handed out');
        return;
      }
      assert.ok(!processing.has(got), `${got} handed out while being processed`);
      assert.ok(owed.has(got), `${got} handed out without being added`);
      owed.delete(got);
      processing.add(got);
    };
    const tick = (ms: number): void => {
      now += ms;
      mock.timers.tick(ms);
      for (const [k, at] of waiting) {
        if (at > now) continue;
        waiting.delete(k);
        owed.add(k);
      }
    };
    const delay = (k: string, ms: number): void => {
      if (ms <= 0) {
        waiting.delete(k);
        owed.add(k);
        return;
      }
      const at = now + ms;
      if ((waiting.get(k) ?? Number.POSITIVE_INFINITY) > at) waiting.set(k, at);
    };
    for (const step of ops) {
      switch (step.op) {
        case 'add':
          queue.add(step.key);
          waiting.delete(step.key);
          owed.add(step.key);
          break;
        case 'after':
          queue.addAfter(step.key, step.ms);
          delay(step.key, step.ms);
          break;
        case 'rateLimited': {
          const n = (failures.get(step.key) ?? 0) + 1;
          failures.set(step.key, n);
          const expected = Math.min(MAX_MS, INITIAL_MS * 2 ** (n - 1));
          assert.equal(
            queue.addRateLimited(step.key),
            expected,
            `backoff of ${step.key} after ${n} failures`,
          );
          delay(step.key, expected);
          break;
        }
        case 'forget':
          queue.forget(step.key);
          failures.delete(step.key);
          waiting.delete(step.key);
          break;
        case 'get':
          take();
          break;
        case 'done': {
          const busy = [...processing];
          if (busy.length === 0) break;
          const k = busy[step.pick % busy.length]!;
          queue.done(k);
          processing.delete(k);
          break;
        }
        case 'tick':
          tick(step.ms);
          break;
      }
      for (const k of ['a', 'b', 'c', 'd']) assert.equal(queue.isWaiting(k), waiting.has(k), `${k} waiting`);
    }
    // Finish everything: every key owed, now or after its delay, is handed out once more, and then nothing.
    tick(MAX_MS + 100);
    for (let round = 0; round < 3; round += 1) {
      for (const k of [...processing]) {
        queue.done(k);
        processing.delete(k);
      }
      for (let i = 0; i < 5; i += 1) take();
    }
    assert.deepEqual([...owed], [], 'keys added but never handed out');
    assert.equal(queue.get(), undefined);
  } finally {
    mock.timers.reset();
  }
}

test('work queue: every added key is handed out, never twice at once; forget resets the backoff', async () => {
  await check(
    FILE,
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => run(ops)),
    500,
  );
});
