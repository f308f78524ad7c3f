// docs/architecture.md shows the import graph that `npm run lint` enforces: the table and the lint
// configuration must say the same, folder by folder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
const config = createRequire(import.meta.url)('../../../.dependency-cruiser.cjs') as {
  forbidden: Array<{ name: string; comment?: string; from: { path: string } }>;
};

/** folder → what the document says it may import (besides itself). */
function documented(): Map<string, string[]> {
  const table = doc.split('<!-- allowed-imports -->')[1]?.split('<!-- /allowed-imports -->')[0] ?? '';
  const rows = table.split('\n').filter((l) => /^\| `/.test(l));
  return new Map(
    rows.map((row) => {
      const [folder = '', allowed = ''] = row
        .split('|')
        .slice(1, 3)
        .map((c) => c.trim());
      return [
        folder.replaceAll('`', ''),
        allowed === '—' ? [] : allowed.split(', ').map((a) => a.replaceAll('`', '')),
      ];
    }),
  );
}

/** folder → what the lint rule allows (besides itself), read from the rule's comment. */
function enforced(): Map<string, string[]> {
  const layers = config.forbidden.filter((rule) => rule.name.endsWith('-imports'));
  return new Map(
    layers.map((rule) => {
      const folder = rule.name.replace(/-imports$/, '');
      const list = (rule.comment ?? '').replace(/^.*may import only: /, '').replace(/ \(.*$/, '');
      const allowed = list
        .split(', ')
        .map((a) => a.replaceAll('\\', ''))
        .filter((a) => a !== folder);
      return [folder, allowed];
    }),
  );
}

test('the allowed-imports table of docs/architecture.md is the lint rule, folder by folder', () => {
  const fromDoc = documented();
  const fromLint = enforced();
  assert.ok(fromLint.size >= 10, 'the layer rules were found');
  assert.deepEqual([...fromDoc.keys()].sort(), [...fromLint.keys()].sort());
  for (const [folder, allowed] of fromLint) assert.deepEqual(fromDoc.get(folder), allowed, folder);
});
