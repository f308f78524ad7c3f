import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignNames, foldName, isDnsSubdomain } from '../../../src/import/dns-names.ts';

test('names that are already DNS-safe are kept', () => {
  const names = assignNames(['nightly-report', 'a.b.c', 'x1']);
  assert.deepEqual([...names.values()], ['nightly-report', 'a.b.c', 'x1']);
});

test('other names are folded to a lowercase RFC 1123 subdomain', () => {
  assert.equal(foldName('Nightly Report (EU)'), 'nightly-report-eu');
  assert.equal(foldName('tasks:meta:every_30s'), 'tasks-meta-every-30s');
  assert.equal(foldName('Café crème'), 'cafe-creme');
  assert.equal(foldName('..a..b..'), 'a.b');
  assert.equal(foldName('-_-'), 'task');
  assert.equal(foldName('日本語'), 'task');
  const long = foldName(`${'x'.repeat(300)}`);
  assert.equal(long.length, 253);
  for (const name of ['Nightly Report (EU)', 'a--b', `${'ab.'.repeat(100)}`, 'Z'])
    assert.ok(isDnsSubdomain(foldName(name)), name);
});

test('names that fold to the same one get a stable hash suffix; an unchanged name keeps its own', () => {
  const names = assignNames(['report', 'Report', 'REPORT', 'other one']);
  assert.equal(names.get('report'), 'report');
  assert.match(names.get('Report')!, /^report-[0-9a-f]{8}$/);
  assert.match(names.get('REPORT')!, /^report-[0-9a-f]{8}$/);
  assert.notEqual(names.get('Report'), names.get('REPORT'));
  assert.equal(names.get('other one'), 'other-one');
  // The same names in another order give the same result.
  const again = assignNames(['other one', 'REPORT', 'Report', 'report']);
  for (const [original, name] of names) assert.equal(again.get(original), name);
  assert.equal(new Set(names.values()).size, 4);
});

test('a suffixed long name still fits in 253 characters', () => {
  const a = `${'A'.repeat(260)}`;
  const b = `${'a'.repeat(260)}!`;
  const names = assignNames([a, b]);
  for (const name of names.values()) {
    assert.ok(name.length <= 253 && isDnsSubdomain(name), name);
  }
  assert.notEqual(names.get(a), names.get(b));
});
