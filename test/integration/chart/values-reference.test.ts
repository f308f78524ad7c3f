// The chart's values reference cannot go stale: every value, its default, nothing invented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chartDir } from './chart.ts';
import { documentedValues, valuesTableProblems } from './values-reference.ts';

test('charts/celerybeat-operator/README.md documents every value with its default', () => {
  const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
  assert.deepEqual(valuesTableProblems(readme), []);
});

test('the check notices a missing row and a stale default', () => {
  const table = [...documentedValues()].map(([key, shown]) => `| \`${key}\` | ${shown} | text |`);
  assert.deepEqual(valuesTableProblems(table.join('\n')), []);
  const edited = table
    .filter((row) => !row.startsWith('| `crds.keep`'))
    .map((row) => (row.startsWith('| `replicaCount`') ? row.replace('| `2` |', '| `3` |') : row));
  assert.deepEqual(valuesTableProblems(edited.join('\n')).sort(), [
    'crds.keep is not documented',
    'replicaCount: the table says `3`, values.yaml says `2`',
  ]);
});
