import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedHeap } from '../../../src/workqueue/keyed-heap.ts';

function drain(heap: KeyedHeap<string>): [string, number][] {
  const out: [string, number][] = [];
  for (let top = heap.pop(); top !== undefined; top = heap.pop()) out.push([top.key, top.at]);
  return out;
}

test('pops in time order; set moves a key earlier or later; delete removes it from anywhere', () => {
  const heap = new KeyedHeap<string>();
  for (const [key, at] of [
    ['e', 50],
    ['a', 10],
    ['d', 40],
    ['b', 20],
    ['c', 30],
    ['f', 60],
  ] as const)
    heap.set(key, at);
  heap.set('f', 5);
  heap.set('a', 45);
  assert.equal(heap.delete('d'), true);
  assert.equal(heap.delete('missing'), false);
  assert.equal(heap.size, 5);
  assert.equal(heap.at('a'), 45);
  assert.equal(heap.at('d'), undefined);
  assert.deepEqual(heap.peek(), { key: 'f', at: 5 });
  assert.deepEqual(drain(heap), [
    ['f', 5],
    ['b', 20],
    ['c', 30],
    ['a', 45],
    ['e', 50],
  ]);
  assert.equal(heap.has('f'), false);
});

test('random operations agree with a map of times', () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const heap = new KeyedHeap<string>();
  const model = new Map<string, number>();
  for (let i = 0; i < 5000; i += 1) {
    const key = `k${random(200)}`;
    if (random(4) === 0) {
      assert.equal(heap.delete(key), model.delete(key));
    } else {
      const at = random(1000);
      heap.set(key, at);
      model.set(key, at);
    }
    if (random(10) === 0) {
      const top = heap.pop();
      assert.equal(top?.at, model.size === 0 ? undefined : Math.min(...model.values()));
      if (top) model.delete(top.key);
    }
    assert.equal(heap.size, model.size);
  }
  const sorted = [...model.values()].sort((a, b) => a - b);
  assert.deepEqual(
    drain(heap).map(([, at]) => at),
    sorted,
  );
});
