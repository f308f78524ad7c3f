import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoundRobin } from '../../../src/workqueue/round-robin.ts';

test('keys come first-come within a group, groups in turn, the group served last at the back', () => {
  const order = new RoundRobin<string>();
  for (const key of ['a1', 'a2', 'a3']) order.add(key, 'a');
  order.add('b1', 'b');
  order.add('c1', 'c');
  order.add('c2', 'c');
  assert.deepEqual([...order], ['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  order.served('a');
  assert.deepEqual([...order], ['b1', 'c1', 'a1', 'c2', 'a2', 'a3']);
  order.delete('b1', 'b');
  order.add('a1', 'a');
  assert.deepEqual([...order], ['c1', 'a1', 'c2', 'a2', 'a3'], 'a key queued already keeps its place');
  for (const key of [...order]) order.delete(key, key.slice(0, 1));
  assert.deepEqual([...order], []);
});
