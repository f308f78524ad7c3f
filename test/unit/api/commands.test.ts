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

test('validate accepts every example; the Friday-13th one gets the day-rule warning', () => {
  const r = run('validate', EXAMPLES);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+ PeriodicTask\(s\) valid, 1 warning\(s\)\n$/);
  assert.match(
    r.stderr,
    /^\S+crontab-friday-13\.yaml:\d+ default\/record-friday-13: spec\.crontab: warning: dayOfMonth "13" and dayOfWeek "fri" must both match, .*Kubernetes CronJob/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
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
  writeFileSync(
    broken,
    'kind: ConfigMap\n---\napiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nspec:\n  task: "unclosed\n',
  );
  const r = run('validate', file, broken);
  assert.equal(r.code, 1);
  // The lines of the two `name: a` (each document is 7 lines, the ConfigMap 4, and a "---" before it).
  assert.match(
    r.stderr,
    /mixed\.yaml:17 default\/a: metadata\.name: Duplicate value: "a" \(also at \S+mixed\.yaml:4\)/,
  );
  assert.match(r.stderr, /broken\.yaml:6: YAML: Missing closing "quote/);
  assert.doesNotMatch(r.stderr, /ConfigMap|default\/c/);
});

test('validate: --help, no file and a bad flag', () => {
  assert.equal(run('validate', '--help').code, 0);
  assert.match(run('validate', '--help').stdout, /Usage: celerybeat-operator validate/);
  assert.equal(run('validate').code, 2);
  const bad = run('validate', '--colour', 'x.yaml');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'celerybeat-operator validate: unknown flag --colour (see --help)\n');
});

test("validate --key-prefix: no queue may start with the operator's prefix (default tasks:meta:)", () => {
  const task = (name: string, queue: string) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace: 'team-a' },
    spec: { task: 'tasks.add', interval: { every: 5, period: 'seconds' }, options: { queue } },
  });
  const file = writeYaml('prefixes.yaml', [
    task('default-prefix', 'tasks:meta:team-b/later'),
    task('own', 'beat:x'),
  ]);
  const byDefault = run('validate', file);
  assert.equal(byDefault.code, 1);
  assert.match(
    byDefault.stderr,
    /team-a\/default-prefix: spec\.options\.queue: Invalid value: "tasks:meta:team-b\/later": must not start with the operator's key prefix "tasks:meta:"/,
  );
  assert.doesNotMatch(byDefault.stderr, /team-a\/own/);
  const own = run('validate', '--key-prefix', 'beat:', file);
  assert.equal(own.code, 1);
  assert.match(own.stderr, /team-a\/own: spec\.options\.queue: .*key prefix "beat:"/);
  assert.doesNotMatch(own.stderr, /default-prefix/);
  assert.equal(run('validate', '--key-prefix', '', file).code, 2);
});

test('every command names an unknown flag in one line', () => {
  for (const command of ['validate', 'next', 'run']) {
    const r = run(command, '--foo', EXAMPLES);
    assert.equal(r.code, 2, command);
    assert.equal(r.stderr, `celerybeat-operator ${command}: unknown flag --foo (see --help)\n`);
  }
  const missing = run('next', EXAMPLES, '--count');
  assert.equal(missing.stderr, 'celerybeat-operator next: flag --count needs a value (see --help)\n');
});

test('file:line points at the offending field, or at its nearest parent when the field is missing', () => {
  const file = join(dir, 'lines.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: celerybeat.io/v1alpha1', // 1
      'kind: PeriodicTask',
      'metadata: {name: priority}',
      'spec:',
      '  task: tasks.add', // 5
      '  interval: {every: 5, period: seconds}',
      '  options:',
      '    queue: celery',
      '    priority: 300', // 9
      '---',
      'apiVersion: celerybeat.io/v1alpha1',
      'kind: PeriodicTask',
      'metadata: {name: minute}',
      'spec:',
      '  task: tasks.add', // 15
      '  crontab:',
      '    hour: "3"',
      '    minute: "61"', // 18
      '---',
      'apiVersion: celerybeat.io/v1alpha1', // 20
      'kind: PeriodicTask',
      'metadata: {name: no-task}',
      'spec:', // 23
      '  cron: "* * * * *"',
      '',
    ].join('\n'),
  );
  const r = run('validate', file);
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.trim().split('\n').slice(0, 3), [
    `${file}:9 default/priority: spec.options.priority: Invalid value: 300: should be less than or equal to 255`,
    `${file}:18 default/minute: spec.crontab.minute: Invalid value: "61": 61 is out of range 0-59`,
    `${file}:23 default/no-task: spec.task: Required value`,
  ]);
});

test('no PeriodicTask: validate and next name the files, or the directory that holds none', () => {
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '# nothing yet\n');
  const configMap = writeYaml('configmap.yaml', [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
  const r = run('validate', empty, configMap);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `no PeriodicTask found in ${empty}, ${configMap}\n`);
  const emptyDir = mkdtempSync(join(tmpdir(), 'celerybeat-empty-'));
  assert.equal(
    run('validate', emptyDir).stderr,
    `no PeriodicTask found: ${emptyDir} has no *.yaml, *.yml or *.json file\n`,
  );
  const next = run('next', empty);
  assert.equal(next.code, 1);
  assert.equal(next.stderr, `no PeriodicTask found in ${empty}\n`);
});

test('day of month and day of week both restricted: validate warns with status 0, next warns and shows the runs', () => {
  const file = writeYaml('friday-13.yaml', [
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'fri13' },
      spec: { task: 't', crontab: { minute: '0', hour: '9', dayOfMonth: '13', dayOfWeek: 'fri' } },
    },
  ]);
  const v = run('validate', file);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, '1 PeriodicTask(s) valid, 1 warning(s)\n');
  assert.match(
    v.stderr,
    /^\S+friday-13\.yaml:7 default\/fri13: spec\.crontab: warning: dayOfMonth "13" and dayOfWeek "fri" must both match, as in Celery; a Kubernetes CronJob with the same fields runs on days that match either\. "celerybeat-operator next" shows the runs\.\n$/,
  );
  const n = run('next', file, '--count', '3', '--from', '2026-01-01T00:00:00Z');
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stderr, /spec\.crontab: warning: dayOfMonth "13" and dayOfWeek "fri" must both match/);
  assert.deepEqual(n.stdout.trim().split('\n'), [
    'default/fri13 2026-02-13T09:00:00.000Z',
    'default/fri13 2026-03-13T09:00:00.000Z',
    'default/fri13 2026-11-13T09:00:00.000Z',
  ]);
});

test('cron with both day fields restricted: validate warns that either matches, as a CronJob does; next shows those runs', () => {
  const file = writeYaml('friday-or-13.yaml', [
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'fri-or-13' },
      spec: { task: 't', cron: '0 9 13 * fri' },
    },
  ]);
  const v = run('validate', file);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, '1 PeriodicTask(s) valid, 1 warning(s)\n');
  assert.match(
    v.stderr,
    /^\S+friday-or-13\.yaml:7 default\/fri-or-13: spec\.cron: warning: day of month "13" and day of week "fri": runs when either matches, as a CronJob does; use `crontab` for Celery's rule \(both must match\)\. "celerybeat-operator next" shows the runs\.\n$/,
  );
  const n = run('next', file, '--count', '3', '--from', '2026-01-01T00:00:00Z');
  assert.equal(n.code, 0, n.stderr);
  assert.match(
    n.stderr,
    /spec\.cron: warning: day of month "13" and day of week "fri": runs when either matches/,
  );
  // Fridays, and the 13th (a Tuesday in January 2026).
  assert.deepEqual(n.stdout.trim().split('\n'), [
    'default/fri-or-13 2026-01-02T09:00:00.000Z',
    'default/fri-or-13 2026-01-09T09:00:00.000Z',
    'default/fri-or-13 2026-01-13T09:00:00.000Z',
  ]);
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

test('next and the timeline list the merged slots of several schedules and none that is excluded', () => {
  // Unquoted dates and times stay text, as kubectl reads them.
  const file = join(dir, 'sets.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: celerybeat.io/v1alpha1',
      'kind: PeriodicTask',
      'metadata: {name: sets}',
      'spec:',
      '  task: t',
      '  timeZone: Europe/Berlin',
      '  schedules:',
      '    - crontab: {minute: "0", hour: "9"}',
      '    - cron: "0 9,18 * * *"',
      '    - clocked: 2026-12-24T12:00:00Z',
      '  exclude:',
      '    - date: 2026-12-25',
      '    - {dayOfMonth: "24", hour: "18"}',
      '',
    ].join('\n'),
  );
  const n = run('next', file, '--count', '5', '--from', '2026-12-24T00:00:00Z');
  assert.equal(n.code, 0, n.stderr);
  assert.deepEqual(n.stdout.trim().split('\n'), [
    'default/sets 2026-12-24T08:00:00.000Z',
    'default/sets 2026-12-24T12:00:00.000Z',
    'default/sets 2026-12-26T08:00:00.000Z',
    'default/sets 2026-12-26T17:00:00.000Z',
    'default/sets 2026-12-27T08:00:00.000Z',
  ]);
  const t = run('timeline', file, '--from', '2026-12-24T00:00:00Z', '--hours', '48');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /: 2 runs of 1 task/);
});

test('next stops at endTime and after maxRuns; the timeline counts only those runs', () => {
  const doc = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name },
    spec: { task: 't', cron: '0 * * * *', ...spec },
  });
  const file = join(dir, 'limits.yaml');
  writeFileSync(
    file,
    [doc('ending', { endTime: '2026-01-01T03:00:00Z' }), doc('limited', { maxRuns: 2 })]
      .map((d) => JSON.stringify(d))
      .join('\n---\n'),
  );
  const n = run('next', file, '--count', '5', '--from', '2026-01-01T00:00:00Z');
  assert.equal(n.code, 0, n.stderr);
  assert.deepEqual(n.stdout.trim().split('\n'), [
    'default/ending 2026-01-01T01:00:00.000Z',
    'default/ending 2026-01-01T02:00:00.000Z',
    'default/ending 2026-01-01T03:00:00.000Z',
    'default/limited 2026-01-01T01:00:00.000Z',
    'default/limited 2026-01-01T02:00:00.000Z',
  ]);
  const t = run('timeline', file, '--from', '2026-01-01T00:00:00Z');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /: 5 runs of 2 tasks/);
});
