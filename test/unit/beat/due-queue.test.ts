import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueQueue } from '../../../src/beat/due-queue.ts';

test('pops due keys earliest first, honouring re-schedules and deletes', () => {
  const queue = new DueQueue();
  queue.set('a', 30);
  queue.set('b', 10);
  queue.set('c', 20);
  queue.set('a', 5); // moved earlier: the old node at 30 must never surface
  queue.delete('c');
  assert.equal(queue.size, 2);
  assert.equal(queue.peek(), 5);
  assert.deepEqual(queue.popDue(100, 10), ['a', 'b']);
  assert.equal(queue.peek(), null);
  assert.equal(queue.size, 0);
});

test('popDue stops at now and at the limit', () => {
  const queue = new DueQueue();
  for (let i = 0; i < 10; i += 1) queue.set(`k${i}`, i);
  assert.deepEqual(queue.popDue(3, 100), ['k0', 'k1', 'k2', 'k3']);
  assert.deepEqual(queue.popDue(100, 2), ['k4', 'k5']);
  assert.equal(queue.has('k6'), true);
  assert.equal(queue.has('k0'), false);
});

test('agrees with a sorted list under many random changes', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const queue = new DueQueue();
  const expected = new Map<string, number>();
  for (let step = 0; step < 20_000; step += 1) {
    const key = `k${Math.floor(random() * 500)}`;
    if (random() < 0.2) {
      queue.delete(key);
      expected.delete(key);
    } else {
      const due = Math.floor(random() * 1000);
      queue.set(key, due);
      expected.set(key, due);
    }
  }
  const popped = queue.popDue(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  const sorted = [...expected].sort((x, y) => x[1] - y[1]);
  assert.deepEqual(
    popped.map((k) => expected.get(k)),
    sorted.map(([, due]) => due),
  );
  assert.deepEqual(new Set(popped), new Set(expected.keys()));
});

test('a group with thousands due does not hold back another group: every group due gives one key per round', () => {
  const queue = new DueQueue();
  for (let i = 0; i < 5000; i += 1) queue.set(`flood/t${i}`, i % 10, 'flood');
  queue.set('quiet/one', 9, 'quiet');
  queue.set('later/one', 50, 'later');
  const batch = queue.popDue(10, 1000);
  assert.equal(batch.length, 1000);
  assert.ok(batch.includes('quiet/one'), "the quiet namespace's slot is in the first batch");
  assert.ok(!batch.includes('later/one'), 'not before it is due');
  // The flood's own keys still come earliest first.
  const flood = batch.filter((k) => k.startsWith('flood/')).map((k) => Number(k.slice(7)) % 10);
  assert.deepEqual(
    flood,
    [...flood].sort((a, b) => a - b),
  );
});

test('a key moved to another group leaves the first one', () => {
  const queue = new DueQueue();
  queue.set('k', 5, 'a');
  queue.set('k', 7, 'b');
  assert.equal(queue.size, 1);
  assert.equal(queue.peek(), 7);
  assert.deepEqual(queue.popDue(10, 10), ['k']);
  assert.equal(queue.peek(), null);
});
