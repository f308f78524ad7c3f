// readManifestFile: multi-document YAML read as kubectl reads it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readManifestFile } from '../../../src/manifests/manifest-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'celerybeat-manifests-'));

test('each document with its index, the line where it starts, and its object; empty documents are skipped', async () => {
  const path = join(dir, 'two.yaml');
  writeFileSync(path, '# leading comment\n---\nkind: A\nenabled: yes\n---\n---\nkind: B\nlist: [1, two]\n');
  const docs = await readManifestFile(path);
  assert.deepEqual(
    docs.map((d) => ({ index: d.index, line: d.line, object: d.object })),
    [
      // YAML 1.1 as kubectl reads it: "yes" is a boolean.
      { index: 0, line: 2, object: { kind: 'A', enabled: true } },
      { index: 2, line: 6, object: { kind: 'B', list: [1, 'two'] } },
    ],
  );
});

test('a broken document is reported with its index; the others are still read', async () => {
  const path = join(dir, 'broken.yaml');
  writeFileSync(path, 'kind: A\n---\nkind: [B\n---\nkind: C\n');
  const docs = await readManifestFile(path);
  assert.equal(docs.length, 3);
  assert.deepEqual(docs[0]!.object, { kind: 'A' });
  assert.equal(docs[1]!.index, 1);
  assert.match(docs[1]!.error!, /^YAML: /);
  assert.deepEqual(docs[2]!.object, { kind: 'C' });
});

test('an unreadable file is one document with an error naming the problem', async () => {
  const docs = await readManifestFile(join(dir, 'missing.yaml'));
  assert.equal(docs.length, 1);
  assert.match(docs[0]!.error!, /cannot read file: ENOENT/);
});

test('lineOf gives the line of a field, falling back to its parent, then to the document start', async () => {
  const path = join(dir, 'fields.yaml');
  writeFileSync(path, 'kind: A\n---\n# B\nkind: B\nspec:\n  options:\n    priority: 300\n');
  const docs = await readManifestFile(path);
  const b = docs[1]!;
  assert.equal(b.lineOf?.('spec.options.priority'), 7);
  assert.equal(b.lineOf?.('spec.task'), 5);
  assert.equal(b.lineOf?.('metadata.name'), b.line);
});

test('a YAML syntax error is reported at its own line, not the line of the document', async () => {
  const path = join(dir, 'syntax.yaml');
  writeFileSync(path, 'kind: A\n---\nkind: B\nspec:\n  task: t\n   bad: indent\n');
  const docs = await readManifestFile(path);
  assert.match(docs[1]!.error!, /^YAML: /);
  assert.equal(docs[1]!.line, 5);
});

test('a document nested deeper than the parser can go is an error saying so, with its line; no throw', async () => {
  const path = join(dir, 'deep.yaml');
  writeFileSync(path, `kind: A\n---\nspec:\n  args: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  const docs = await readManifestFile(path);
  assert.deepEqual(docs[0]!.object, { kind: 'A' });
  assert.deepEqual(
    { error: docs[1]!.error, line: docs[1]!.line },
    { error: 'YAML: nested too deeply to read', line: 4 },
  );
});

test('an unquoted time or date is the string written, as kubectl reads it', async () => {
  const path = join(dir, 'times.yaml');
  writeFileSync(path, 'spec:\n  startTime: 2026-01-01T03:00:00Z\n  endTime: 2026-12-31\n');
  const [doc] = await readManifestFile(path);
  assert.deepEqual(doc?.object, { spec: { startTime: '2026-01-01T03:00:00Z', endTime: '2026-12-31' } });
});
