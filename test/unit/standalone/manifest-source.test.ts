// ManifestDirectorySource on a real directory: partial parses, typos, replaced files, renames and deletes.
// The removal grace runs on a simulated clock; the directory is polled often so changes are seen at once.
import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { createLogger } from '../../../src/observe/logger.ts';
import { ManifestDirectorySource } from '../../../src/standalone/manifest-source.ts';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';

const GRACE_MS = 3000;
const open: Array<{ source: ManifestDirectorySource; dir: ManifestDir }> = [];

afterEach(async () => {
  for (const { source, dir } of open.splice(0)) {
    await source.stop();
    await dir.remove();
  }
});

/** A started source; `seen` holds the task names of every change signal, `now` drives the grace clock. */
async function started(files: Record<string, unknown[]>) {
  const dir = await manifestDir();
  for (const [file, docs] of Object.entries(files)) await dir.write(file, ...docs);
  const clock = { now: 1_000_000 };
  const source = new ManifestDirectorySource(dir.path, createLogger('silent'), {
    pollMs: 20,
    removalGraceMs: GRACE_MS,
    clock: () => clock.now,
  });
  const seen: string[][] = [];
  open.push({ source, dir });
  await source.start(() => seen.push(names(source)));
  await waitUntil('the files to be read', () => source.synced(), 5000);
  return { dir, source, seen, clock };
}

/** Writes a marker task and waits until it is listed: every change made before it has then been scanned. */
async function scanned(dir: ManifestDir, source: ManifestDirectorySource, marker: string): Promise<void> {
  await dir.write(`${marker}.yaml`, intervalTask(marker, 5));
  await waitUntil(`marker ${marker} to be listed`, () => names(source).includes(marker), 5000);
}

function names(source: ManifestDirectorySource): string[] {
  return source
    .list()
    .map((t) => t.metadata.name)
    .sort();
}

test('tasks of every file, with a stable uid derived from the name', async () => {
  const { source } = await started({ 'a.yaml': [intervalTask('a', 5)], 'b.yml': [intervalTask('b', 5)] });
  assert.deepEqual(names(source), ['a', 'b']);
  const uid = source.list()[0]?.metadata.uid;
  assert.match(uid ?? '', /^[0-9a-f-]{36}$/);
  assert.ok(source.synced() && source.complete());
});

test('a file that stops parsing keeps its last good tasks; one that never parsed makes the set incomplete', async () => {
  const { dir, source } = await started({ 'a.yaml': [intervalTask('a', 5)] });
  await dir.writeRaw(
    'a.yaml',
    'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata: {name: a\n',
  );
  await dir.writeRaw('new.yaml', 'spec: [unclosed\n');
  await waitUntil('the new file to be read', () => source.complete() === false, 5000);
  assert.deepEqual(names(source), ['a']);
});

test('a PeriodicTask with a misspelt apiVersion is still listed, for the reconciler to report', async () => {
  const typo = { ...intervalTask('a', 5), apiVersion: 'celerybeat.io/v1aplha1' };
  const { source } = await started({
    'a.yaml': [typo, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }],
  });
  assert.deepEqual(names(source), ['a']);
  assert.equal(source.list()[0]?.apiVersion, 'celerybeat.io/v1aplha1');
});

test('a PeriodicTask without a name makes its file unreadable instead of dropping what it held', async () => {
  const { dir, source } = await started({ 'a.yaml': [intervalTask('a', 5)] });
  await dir.write('a.yaml', { ...intervalTask('a', 5), metadata: { namespace: 'default' } });
  await scanned(dir, source, 'marker-2');
  assert.deepEqual(names(source), ['a', 'marker-2']);
});

test('a file replaced by rename (an editor save) or deleted and written again is an update', async () => {
  const { dir, source, seen } = await started({
    'a.yaml': [intervalTask('a', 5)],
    'b.yaml': [intervalTask('b', 5)],
  });
  const tmp = join(dir.path, '.a.yaml.swp');
  await writeFile(tmp, (await import('yaml')).stringify(intervalTask('a', 7)));
  await rename(tmp, join(dir.path, 'a.yaml'));
  await waitUntil('the new spec', () => source.list().some((t) => t.spec.interval?.every === 7), 5000);

  await rm(join(dir.path, 'b.yaml'));
  await scanned(dir, source, 'marker-2');
  await dir.write('b.yaml', intervalTask('b', 9));
  await waitUntil('b to come back', () => source.list().some((t) => t.spec.interval?.every === 9), 5000);
  for (const set of seen)
    assert.ok(set.includes('a') && set.includes('b'), `a change signal lacked a task: ${set}`);
});

test('a deleted file is removed once the grace has passed', async () => {
  const { dir, source, clock } = await started({
    'a.yaml': [intervalTask('a', 5)],
    'b.yaml': [intervalTask('b', 5)],
  });
  await rm(join(dir.path, 'b.yaml'));
  await scanned(dir, source, 'marker-2');
  assert.deepEqual(names(source), ['a', 'b', 'marker-2'], 'still within the grace');
  clock.now += GRACE_MS;
  await waitUntil('b to be removed', () => names(source).join() === 'a,marker-2', 5000);
});

test('a task moved to another file is never missing', async () => {
  const { dir, source, seen, clock } = await started({ 'a.yaml': [intervalTask('a', 5)] });
  await rename(join(dir.path, 'a.yaml'), join(dir.path, 'moved.yaml'));
  await scanned(dir, source, 'marker-1');
  clock.now += GRACE_MS;
  await scanned(dir, source, 'marker-2');
  assert.deepEqual(names(source), ['a', 'marker-1', 'marker-2']);
  for (const set of seen) assert.ok(set.includes('a'), `a change signal lacked the moved task: ${set}`);
});

test('a file emptied in place (truncated before the rewrite) keeps its tasks for the grace, then loses them', async () => {
  const { dir, source, clock } = await started({ 'a.yaml': [intervalTask('a', 5)] });
  await dir.writeRaw('a.yaml', '');
  await scanned(dir, source, 'marker-1');
  assert.deepEqual(names(source), ['a', 'marker-1']);
  clock.now += GRACE_MS;
  await waitUntil('a to be removed', () => names(source).join() === 'marker-1', 5000);
});

test('PeriodicTaskPolicy documents are the policies: not tasks, a change signalled, a bad edit keeps the last good', async () => {
  const policy = (maxPriority: unknown) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name: 'cap' },
    spec: { namespaceSelector: {}, maxPriority },
  });
  const { dir, source } = await started({ 'team.yaml': [intervalTask('a', 5), policy(3)] });
  assert.deepEqual(names(source), ['a'], 'the policy is not read as a task');
  const caps = () => source.policySource.policies().map((p) => p.spec.maxPriority);
  assert.deepEqual(caps(), [3]);
  assert.deepEqual(source.policySource.namespaceLabels('team-a'), {
    'kubernetes.io/metadata.name': 'team-a',
  });
  let changes = 0;
  await source.policySource.start(() => {
    changes += 1;
  });
  await dir.write('team.yaml', intervalTask('a', 5), policy(5));
  await waitUntil('the edited policy', () => caps()[0] === 5 && changes === 1, 5000);
  await dir.write('team.yaml', intervalTask('a', 5), policy('high'));
  await scanned(dir, source, 'marker');
  assert.deepEqual(caps(), [5], 'an invalid policy keeps the last good one');
});
