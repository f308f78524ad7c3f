// The `validate` and `next` commands, run as the real binary entry point on files in a temp directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { INVALID_CASES, invalidManifest } from './invalid-manifests.ts';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
const EXAMPLES = new URL('../../../examples', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'celerybeat-commands-'));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TIMEZONE: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeYaml(name: string, docs: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, docs.map((d) => stringify(d)).join('---\n'));
  return path;
}

test('validate accepts every example', () => {
  const r = run('validate', EXAMPLES);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+ PeriodicTask\(s\) valid\n$/);
});

test(`validate rejects ${INVALID_CASES.length} invalid manifests with one line naming file, resource and field`, () => {
  const file = writeYaml('invalid.yaml', INVALID_CASES.map(invalidManifest));
  const r = run('validate', file);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  for (const c of INVALID_CASES) {
    const name = c.metadataName ?? `invalid-${c.name}`;
    const line = lines.find((l) => l.includes(` default/${name}: ${c.field}: `));
    assert.ok(line, `no line for ${name} naming ${c.field}`);
    assert.ok(line.startsWith(`${file}:`), line);
  }
  assert.match(lines.at(-1)!, /problem\(s\); 0 PeriodicTask\(s\) valid/);
});

test('validate reports YAML errors and duplicates, and skips other kinds', () => {
  const task = {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'a' },
    spec: { task: 't', cron: '* * * * *' },
  };
  const file = writeYaml('mixed.yaml', [
    task,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } },
    task,
  ]);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nspec: [unclosed\n');
  const r = run('validate', file, broken);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /mixed\.yaml:\d+ default\/a: metadata\.name: Duplicate value: "a"/);
  assert.match(r.stderr, /broken\.yaml:1: YAML: /);
  assert.doesNotMatch(r.stderr, /ConfigMap|default\/c/);
});

test('validate: --help, no file and a bad flag', () => {
  assert.equal(run('validate', '--help').code, 0);
  assert.match(run('validate', '--help').stdout, /Usage: celerybeat-operator validate/);
  assert.equal(run('validate').code, 2);
  const bad = run('validate', '--colour', 'x.yaml');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('next prints N run times per task, ISO-8601 UTC, prefixed by namespace/name', () => {
  const file = writeYaml('next.yaml', [
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'berlin', namespace: 'ops' },
      spec: { task: 't', cron: '30 2 * * *', timeZone: 'Europe/Berlin' },
    },
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'tick' },
      spec: { task: 't', interval: { every: 90, period: 'seconds' } },
    },
  ]);
  const r = run('next', file, '--count', '3', '--from', '2027-03-27T12:00:00Z');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'ops/berlin 2027-03-28T01:30:00.000Z', // 02:30 does not exist that night: 03:30 CEST
    'ops/berlin 2027-03-29T00:30:00.000Z',
    'ops/berlin 2027-03-30T00:30:00.000Z',
    'default/tick 2027-03-27T12:01:30.000Z',
    'default/tick 2027-03-27T12:03:00.000Z',
    'default/tick 2027-03-27T12:04:30.000Z',
  ]);
});

test('next: bad --count and --from fail with one line; --help works', () => {
  assert.equal(run('next', '--help').code, 0);
  const count = run('next', EXAMPLES, '--count', 'many');
  assert.equal(count.code, 2);
  assert.match(count.stderr, /--count must be an integer/);
  const from = run('next', EXAMPLES, '--from', 'yesterday');
  assert.equal(from.code, 2);
  assert.match(from.stderr, /--from must be an ISO-8601 time/);
});
