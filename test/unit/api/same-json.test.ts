// sameJson: the informer's test of whether a watched object's spec, labels or annotations changed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameJson } from '../../../src/api/same-json.ts';

test('equal JSON values are the same whatever the member order; any difference is found', () => {
  assert.ok(sameJson({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] }));
  assert.ok(sameJson(undefined, undefined));
  assert.ok(!sameJson({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!sameJson({ a: 1, b: undefined }, { a: 1, c: undefined }));
  assert.ok(!sameJson([1, 2], [1, 2, 3]));
  assert.ok(!sameJson([[1]], [{ 0: 1 }]));
  assert.ok(!sameJson({ a: '1' }, { a: 1 }));
  assert.ok(!sameJson(undefined, {}));
});

test('values nested 100,000 levels deep are compared without overflowing the stack', () => {
  const deep = (leaf: string): unknown => JSON.parse(`${'['.repeat(100_000)}"${leaf}"${']'.repeat(100_000)}`);
  assert.ok(sameJson(deep('a'), deep('a')));
  assert.ok(!sameJson(deep('a'), deep('b')));
});
