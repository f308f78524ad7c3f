// SharedStrings holds each value once, up to its bound; past it a new value is not held and a known one still is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedStrings } from '../../../src/api/shared-strings.ts';

test('a value is held once, as its copy; past the bound only known values are given back', () => {
  const table = new SharedStrings(2);
  const a = table.get('a', (v) => `${v}`);
  assert.equal(a, 'a');
  assert.equal(table.get('a'), a);
  assert.equal(table.get('b'), 'b');
  assert.equal(table.get('c'), undefined, 'full: a new value is not held');
  assert.equal(table.get('a'), 'a', 'full: a known value still is');
});
