// leanCopy: what a cache holds is equal to what was parsed, shares nothing mutable with it, and keeps values
// that are not plain JSON (a YAML 1.1 timestamp is a Date) as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { leanCopy } from '../../../src/api/lean-object.ts';

const manifest = `
apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: report, namespace: team-a, labels: {tier: "1"}}
spec:
  task: reports.send
  interval: {every: 10, period: seconds}
  args: [1, "two", [3], {four: 4}, null, true]
  kwargs: {nested: {deep: [1, 2]}}
  options: {queue: reports, headers: {x-team: a}}
  note: 2025-01-01T00:00:00Z
`;

test('a lean copy is deeply equal, shares no object or array with the original, and keeps dates', () => {
  const parsed = parseAllDocuments(manifest, { version: '1.1' })[0]!.toJS() as Record<string, unknown>;
  for (const flatten of [false, true]) {
    const copy = leanCopy(parsed, { flatten });
    assert.deepEqual(copy, parsed);
    const spec = copy.spec as Record<string, unknown>;
    const original = parsed.spec as Record<string, unknown>;
    assert.notEqual(copy, parsed);
    assert.notEqual(spec.args, original.args);
    assert.notEqual((spec.args as unknown[])[3], (original.args as unknown[])[3]);
    assert.notEqual(spec.kwargs, original.kwargs);
    assert.ok(spec.note instanceof Date, 'a timestamp stays a Date');
    assert.equal(spec.note, original.note, 'the same Date: only plain objects and arrays are copied');
    (spec.args as unknown[]).push('more');
    assert.equal((original.args as unknown[]).length, 6, 'changing the copy leaves the original alone');
  }
});

test('values of the shared fields come out equal, however many objects hold them', () => {
  const objects = Array.from({ length: 5000 }, (_, i) =>
    leanCopy({
      apiVersion: `celerybeat.io/${'v1alpha1'}`,
      spec: { task: `t${i % 3}`, options: { queue: `q${i}` } },
    }),
  );
  assert.deepEqual([...new Set(objects.map((o) => o.spec.task))].sort(), ['t0', 't1', 't2']);
  // More distinct values than the table holds are still copied as they are.
  assert.deepEqual(
    objects.map((o) => o.spec.options.queue),
    Array.from({ length: 5000 }, (_, i) => `q${i}`),
  );
});

test('a value nested 100,000 levels deep is copied whole, without overflowing the stack', () => {
  const depth = 100_000;
  // Built by JSON.parse, as an API server's answer is: any depth it accepts reaches the copy.
  const parsed = JSON.parse(
    `{"spec":{"args":${'['.repeat(depth)}"leaf"${']'.repeat(depth)},"kwargs":${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}}}`,
  ) as { spec: { args: unknown; kwargs: unknown } };
  const copy = leanCopy(parsed);
  for (const field of ['args', 'kwargs'] as const) {
    let original: unknown = parsed.spec[field];
    let copied: unknown = copy.spec[field];
    let levels = 0;
    while (typeof original === 'object' && original !== null) {
      assert.notEqual(copied, original);
      original = Array.isArray(original) ? original[0] : (original as { k: unknown }).k;
      copied = Array.isArray(copied) ? copied[0] : (copied as { k: unknown }).k;
      levels += 1;
    }
    assert.equal(levels, depth);
    assert.equal(copied, original);
  }
});
