// patchManifestText: a merge patch applied to one document of a manifest by editing its text. Only the named
// fields change; comments, layout and the other documents stay byte for byte, and an edit that would not
// read back as intended is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { applyMergePatch, patchManifestText } from '../../../src/cli/manifest-edit.ts';

const RUN_NOW = { metadata: { annotations: { 'celerybeat.io/run-now': 'T1' } } };
const PAUSE = { spec: { pause: { reason: 'db migration', until: '2026-12-24T18:00:00Z' } } };
const RESUME = { spec: { pause: null } };

const FILE = `# Nightly report. Owner: data team.
apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata:
  name: nightly-report   # keep this name
spec:
  task: tasks.report     # the Celery task
  crontab: {minute: "0", hour: "3"}
  description: >-
    folded text
    on two lines

# trailing comment of the first document
---
apiVersion: v1
kind: ConfigMap   # another kind
metadata: {name: settings}
data: {a: "1"}
`;

test('an annotation is added under a new annotations key, after the last field of metadata', () => {
  assert.equal(
    patchManifestText(FILE, 0, RUN_NOW, false),
    FILE.replace(
      '  name: nightly-report   # keep this name\n',
      '  name: nightly-report   # keep this name\n  annotations:\n    celerybeat.io/run-now: "T1"\n',
    ),
  );
});

test('spec.pause is added after a block scalar, before the blank line and comments that follow it', () => {
  assert.equal(
    patchManifestText(FILE, 0, PAUSE, false),
    FILE.replace(
      '    on two lines\n',
      '    on two lines\n  pause:\n    reason: "db migration"\n    until: "2026-12-24T18:00:00Z"\n',
    ),
  );
});

test('an existing annotation value is replaced in place, keeping the comment on its line', () => {
  const text = `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata:
    name: a
    annotations:
        celerybeat.io/run-now: old   # last manual run
        other: x
spec: {task: t, interval: {every: 1, period: hours}}
`;
  assert.equal(
    patchManifestText(text, 0, RUN_NOW, false),
    text.replace('run-now: old   #', 'run-now: "T1"   #'),
  );
});

test('the indentation of the file is kept for new blocks', () => {
  const text =
    'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata:\n    name: a\nspec:\n    task: t\n';
  assert.equal(
    patchManifestText(text, 0, PAUSE, false),
    `${text}    pause:\n        reason: "db migration"\n        until: "2026-12-24T18:00:00Z"\n`,
  );
});

test('pause replaced, until removed; resume removes the whole pause block', () => {
  const text = `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: a}
spec:
  task: t
  pause:
    reason: old reason   # why
    until: "2026-01-01T00:00:00Z"
  enabled: true
`;
  const repaused = patchManifestText(text, 0, { spec: { pause: { reason: 'new', until: null } } }, false);
  assert.equal(
    repaused,
    text.replace('old reason', '"new"').replace('    until: "2026-01-01T00:00:00Z"\n', ''),
  );
  assert.equal(patchManifestText(text, 0, RESUME, false), text.replace(/ {2}pause:\n.*\n.*\n/, ''));
  // Nothing to remove: the text is returned as it is.
  assert.equal(patchManifestText(FILE, 0, RESUME, false), FILE);
});

test('flow mappings get flow entries', () => {
  const text =
    'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata: {name: a, namespace: apps}  # c\nspec: {task: t, pause: {reason: x}, interval: {every: 1, period: hours}}\n';
  assert.equal(
    patchManifestText(text, 0, RUN_NOW, false),
    text.replace('namespace: apps}', 'namespace: apps, annotations: {celerybeat.io/run-now: "T1"}}'),
  );
  assert.equal(patchManifestText(text, 0, RESUME, false), text.replace('pause: {reason: x}, ', ''));
  assert.equal(
    patchManifestText(text, 0, PAUSE, false),
    text.replace('{reason: x}', '{reason: "db migration", until: "2026-12-24T18:00:00Z"}'),
  );
});

test('a JSON manifest stays JSON', () => {
  const text =
    '{\n  "apiVersion": "celerybeat.io/v1alpha1",\n  "kind": "PeriodicTask",\n  "metadata": {"name": "a"},\n  "spec": {"task": "t", "pause": {"reason": "x"}}\n}\n';
  const out = patchManifestText(text, 0, RUN_NOW, true);
  assert.equal(
    out,
    text.replace('{"name": "a"}', '{"name": "a", "annotations": {"celerybeat.io/run-now": "T1"}}'),
  );
  assert.deepEqual(JSON.parse(patchManifestText(text, 0, RESUME, true)).spec, { task: 't' });
});

test('only the chosen document changes; the others read the same and keep their text', () => {
  const second = FILE.indexOf('---');
  for (const patch of [RUN_NOW, PAUSE, RESUME]) {
    const out = patchManifestText(FILE, 0, patch, false);
    assert.ok(out.endsWith(FILE.slice(second)), 'the second document is byte for byte the same');
    const docs = parseAllDocuments(out, { version: '1.1' });
    assert.ok(Array.isArray(docs));
    const before = parseAllDocuments(FILE, { version: '1.1' });
    assert.ok(Array.isArray(before));
    assert.deepEqual(docs[0]!.toJS(), applyMergePatch(before[0]!.toJS(), patch));
  }
});

test('strings that YAML would read as something else are quoted', () => {
  const text =
    'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata: {name: a}\nspec:\n  task: t\n';
  const out = patchManifestText(
    text,
    0,
    { spec: { pause: { reason: 'yes: no # not a comment\n"quoted"' } } },
    false,
  );
  const docs = parseAllDocuments(out, { version: '1.1' });
  assert.ok(Array.isArray(docs));
  assert.deepEqual(docs[0]!.toJS().spec.pause, { reason: 'yes: no # not a comment\n"quoted"' });
});

test('what cannot be edited exactly is refused, naming why', () => {
  assert.throws(() => patchManifestText('- a\n- b\n', 0, RUN_NOW, false), /not a mapping/);
  assert.throws(() => patchManifestText('a: [\n', 0, RUN_NOW, false), /YAML/);
  assert.throws(() => patchManifestText('a: 1\n', 3, RUN_NOW, false), /no YAML document 4/);
});
