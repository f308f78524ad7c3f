// fieldLine: the line of a validation field path in a YAML document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { fieldLine } from '../../../src/manifests/field-line.ts';

const TEXT = `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata:
  name: a
spec:
  task: tasks.add
  crontab:
    minute: "61"
  args:
    - 1
    - {deep: true}
  options:
    priority: 300
    headers:
      x.trace.id: abc
      x: {trace: 1}
`;

function lineIn(text: string, path: string): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return fieldLine(doc, lineCounter, path);
}

test('nested map fields give the line of their key', () => {
  assert.equal(lineIn(TEXT, 'spec.crontab.minute'), 8);
  assert.equal(lineIn(TEXT, 'spec.options.priority'), 13);
  assert.equal(lineIn(TEXT, 'metadata.name'), 4);
  assert.equal(lineIn(TEXT, 'kind'), 2);
});

test('array indices give the line of the item', () => {
  assert.equal(lineIn(TEXT, 'spec.args[0]'), 10);
  assert.equal(lineIn(TEXT, 'spec.args[1].deep'), 11);
});

test('a key containing dots is one key; the longest matching key wins', () => {
  assert.equal(lineIn(TEXT, 'spec.options.headers.x.trace.id'), 15);
  assert.equal(lineIn(TEXT, 'spec.options.headers.x.trace'), 16);
});

test('a missing field falls back to its nearest existing parent', () => {
  assert.equal(lineIn(TEXT, 'spec.interval.every'), 5);
  assert.equal(lineIn(TEXT, 'spec.options.queue'), 12);
  assert.equal(lineIn(TEXT, 'spec.args[7]'), 9);
  assert.equal(lineIn(TEXT, 'status.nextRunAt'), undefined);
  assert.equal(lineIn(TEXT, ''), undefined);
});

test('flow style (JSON) and aliases are followed', () => {
  assert.equal(
    lineIn('{"spec":\n  {"task": "t",\n   "options": {"priority": 300}}}\n', 'spec.options.priority'),
    3,
  );
  assert.equal(lineIn('base: &b\n  priority: 1\nspec:\n  options: *b\n', 'spec.options.priority'), 2);
});
