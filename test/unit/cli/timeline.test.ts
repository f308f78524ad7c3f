// `celerybeat-operator timeline`, run as the real entry point on files: the pile-up of many tasks at :00 is
// where the chart puts its peak, paused and disabled tasks add nothing, jitter spreads runs, and mistakes in
// the flags are one line with exit status 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { renderTimeline } from '../../../src/cli/timeline-chart.ts';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'celerybeat-timeline-'));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'timeline', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TIMEZONE: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const task = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTask',
  metadata: { name, namespace },
  spec: { task: 'tasks.report', ...spec },
});

function writeTasks(file: string, docs: unknown[]): string {
  const path = join(dir, file);
  writeFileSync(path, docs.map((d) => stringify(d)).join('---\n'));
  return path;
}

const hourly = { crontab: { minute: '0' } };
const reports = Array.from({ length: 40 }, (_, i) => task('team-a', `report-${i}`, hourly));
const syncs = Array.from({ length: 10 }, (_, i) => task('team-b', `sync-${i}`, { cron: '*/10 * * * *' }));
const file = writeTasks('tasks.yaml', [
  ...reports,
  ...syncs,
  task('team-b', 'paused', { ...hourly, pause: { reason: 'migration' } }),
  task('team-b', 'disabled', { ...hourly, enabled: false }),
]);

test('per minute: the 40 reports and 10 syncs at :00 are the peak, the syncs alone every 10 minutes', () => {
  const r = run(file, '--hours', '1', '--from', '2026-12-07T05:30:00Z');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(
    lines[0],
    'Runs per minute, 2026-12-07 05:30 to 2026-12-07 06:30 UTC: 90 runs of 52 tasks, by namespace; peak 50 in a minute',
  );
  assert.equal(lines[1], '── 2026-12-07');
  const row = (label: string) => lines.find((l) => l.startsWith(label)) ?? '';
  assert.match(row('06:00 '), /^06:00\s+50\s+█{40}\s+◀ peak team-a 40 · team-b 10$/);
  assert.match(row('05:40 '), /^05:40\s+10\s+█{8}\s+◀ busy team-b 10$/);
  // Quiet minutes in a row share a line.
  assert.match(row('05:41–05:49'), /^05:41–05:49\s+0 each\s*$/);
});

test("per hour over a day, by task; jittered runs stay in their slot's minute (jitter is shorter than one)", () => {
  const r = run(file, '--from', '2026-12-07T00:00:00Z', '--by', 'task');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Runs per hour, 2026-12-07 00:00 to 2026-12-08 00:00 UTC: 2,\d+ runs of 52 tasks, by task/,
  );
  const spread = writeTasks(
    'jitter.yaml',
    Array.from({ length: 30 }, (_, i) => task('team-c', `j-${i}`, { ...hourly, jitterSeconds: 50 })),
  );
  const minutes = run(spread, '--hours', '1', '--from', '2026-12-07T05:30:00Z');
  assert.equal(minutes.code, 0, minutes.stderr);
  // Within the minute of their slot (jitter is shorter than a minute): all 30 at 06:00.
  assert.match(minutes.stdout, /\n06:00\s+30\s/);
});

test('bad flags: one line naming the flag, exit status 2', () => {
  const cases: Array<[string[], string]> = [
    [['--hours', '0'], '--hours must be an integer from 1 to 744 (31 days), got "0"'],
    [['--bucket', 'day'], '--bucket must be minute or hour, got "day"'],
    [['--by', 'queue'], '--by must be namespace or task, got "queue"'],
    [
      ['--from', 'yesterday'],
      '--from must be an ISO-8601 time such as 2026-12-01T00:00:00Z, got "yesterday"',
    ],
    [[], 'no FILE given (see --help)'],
  ];
  for (const [flags, message] of cases) {
    const r = run(...flags, ...(flags.length ? [file] : []));
    assert.equal(r.code, 2, flags.join(' '));
    assert.equal(r.stderr, `celerybeat-operator timeline: ${message}\n`);
  }
  assert.equal(run('--help').code, 0);
});

test('the chart: bars scaled to the peak, busy buckets above twice the mean, groups largest first', () => {
  const lines = renderTimeline({
    from: Date.UTC(2026, 11, 7, 23),
    bucketMs: 3_600_000,
    count: 3,
    groups: new Map([
      ['a', [1, 8, 0]],
      ['b', [0, 2, 0]],
      ['c', [0, 1, 0]],
      ['d', [0, 1, 0]],
    ]),
    groupedBy: 'namespace',
    tasks: 4,
  });
  assert.deepEqual(lines, [
    'Runs per hour, 2026-12-07 23:00 to 2026-12-08 02:00 UTC: 13 runs of 4 tasks, by namespace; peak 12 in a hour',
    '── 2026-12-07',
    '23:00           1      ███▍                                             a 1',
    '── 2026-12-08',
    '00:00          12      ████████████████████████████████████████  ◀ peak a 8 · b 2 · c 1 · 1 more',
    '01:00           0',
  ]);
});
