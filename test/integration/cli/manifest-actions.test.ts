// Standalone mode's run-now, backfill, pause and resume, run as a user runs them, on a manifest directory:
// only the task's fields change, every other byte of the file stays, and the operator watching the directory
// runs the task once for the run-now token it finds there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOperator } from '../../support/operator-process.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

const TASKS = `# Team schedules. Keep the list sorted.
apiVersion: v1
kind: ConfigMap   # not a PeriodicTask: left alone
metadata: {name: settings}
data: {region: eu}
---
apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata:
  name: report
  namespace: apps       # the team's namespace
spec:
  task: tasks.record
  interval: {every: 1, period: hours}
  args: ["report"]   # what the worker records
---
# the other one
apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: cleanup}
spec:
  task: tasks.record
  cron: "0 3 * * *"
`;

const [HEAD, REPORT, CLEANUP] = (() => {
  const first = TASKS.indexOf('---\n');
  const second = TASKS.indexOf('---\n', first + 1);
  return [TASKS.slice(0, first), TASKS.slice(first, second), TASKS.slice(second)];
})();

let dir: string;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('standalone run-now, backfill, pause and resume', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'celerybeat-manifest-actions-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('each command changes only its fields of the task, byte for byte', async () => {
    const file = join(dir, 'tasks.yaml');
    const other = join(dir, 'other.yaml');
    await writeFile(file, TASKS, { mode: 0o640 });
    await writeFile(other, CLEANUP.slice(4));
    const read = () => readFile(file, 'utf8');

    let r = cli(['run-now', '--manifests', dir, 'report', '-n', 'apps', '--token', 'tok-1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `apps/report: run-now tok-1 (${file}:10)\n`);
    const annotated = REPORT.replace(
      "  namespace: apps       # the team's namespace\n",
      '  namespace: apps       # the team\'s namespace\n  annotations:\n    celerybeat.io/run-now: "tok-1"\n',
    );
    assert.equal(await read(), HEAD + annotated + CLEANUP);

    r = cli(['run-now', '--manifests', dir, 'report', '-n', 'apps', '--token', 'tok-2']);
    assert.equal(r.status, 0, r.stderr);
    const again = annotated.replace('"tok-1"', '"tok-2"');
    assert.equal(await read(), HEAD + again + CLEANUP);

    const range = '2026-12-01T00:00:00Z/2026-12-01T06:00:00Z';
    r = cli([
      'backfill',
      '--manifests',
      dir,
      'report',
      '-n',
      'apps',
      '--from',
      '2026-12-01T00:00:00Z',
      '--to',
      '2026-12-01T06:00:00Z',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `apps/report: backfill ${range} (${file}:10)\n`);
    const filled = again.replace('"tok-2"\n', `"tok-2"\n    celerybeat.io/backfill: "${range}"\n`);
    assert.equal(await read(), HEAD + filled + CLEANUP);

    r = cli([
      'pause',
      '--manifests',
      dir,
      'report',
      '-n',
      'apps',
      '--reason',
      'db migration',
      '--until',
      '2026-12-24T18:00:00Z',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `apps/report: paused until 2026-12-24T18:00:00Z: db migration (${file}:10)\n`);
    const paused = filled.replace(
      '# what the worker records\n',
      '# what the worker records\n  pause:\n    reason: "db migration"\n    until: "2026-12-24T18:00:00Z"\n',
    );
    assert.equal(await read(), HEAD + paused + CLEANUP);

    r = cli(['resume', '--manifests', dir, 'report', '-n', 'apps']);
    assert.equal(r.status, 0, r.stderr);
    // The pause is gone and the resume is stamped (it also clears a pause after failures).
    const resumedAt = /celerybeat\.io\/resumed-at: "([^"]+)"/.exec(await read())?.[1] ?? '';
    assert.ok(Math.abs(Date.parse(resumedAt) - Date.now()) < 60_000, `resumed-at ${resumedAt} is now`);
    const resumed = filled.replace(
      `    celerybeat.io/backfill: "${range}"\n`,
      `    celerybeat.io/backfill: "${range}"\n    celerybeat.io/resumed-at: "${resumedAt}"\n`,
    );
    assert.equal(await read(), HEAD + resumed + CLEANUP);
    // The file was replaced, not rewritten in place, with its mode kept and no temporary file left.
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.deepEqual((await readdir(dir)).sort(), ['other.yaml', 'tasks.yaml']);

    // The default namespace: the task without one, in the other file.
    r = cli(['pause', '--manifests', other, 'cleanup', '--reason', 'x']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(await readFile(other, 'utf8'), `${CLEANUP.slice(4)}  pause:\n    reason: "x"\n`);
  });

  test('a missing or doubled task and a bad flag: one line and a non-zero exit; nothing written', async () => {
    const before = await readFile(join(dir, 'tasks.yaml'), 'utf8');
    const missing = cli(['run-now', '--manifests', dir, 'report']);
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, `celerybeat-operator run-now: no PeriodicTask default/report in ${dir}\n`);
    await writeFile(join(dir, 'copy.yaml'), CLEANUP.slice(4));
    const doubled = cli(['resume', '--manifests', dir, 'cleanup']);
    assert.equal(doubled.status, 1);
    assert.match(
      doubled.stderr,
      /^celerybeat-operator resume: PeriodicTask default\/cleanup is defined more than once: .*copy\.yaml:4, .*other\.yaml:4, .*tasks\.yaml:24\n$/,
    );
    await rm(join(dir, 'copy.yaml'));
    const bad = cli([
      'pause',
      '--manifests',
      dir,
      'report',
      '-n',
      'apps',
      '--reason',
      'x',
      '--until',
      '2026-02-30T00:00:00Z',
    ]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'celerybeat-operator pause: --until "2026-02-30T00:00:00Z": no such date\n');
    const noDir = cli(['run-now', 'report']);
    assert.equal(noDir.status, 2);
    assert.equal(
      noDir.stderr,
      'celerybeat-operator run-now: --manifests DIR is required: the directory (or file) of the PeriodicTask\n',
    );
    assert.equal(await readFile(join(dir, 'tasks.yaml'), 'utf8'), before);
  });
});

describe('the operator in standalone mode acts on what the commands write', () => {
  let redis: RedisServer;
  let manifests: string;
  before(async () => {
    redis = await startRedisServer();
    manifests = await mkdtemp(join(tmpdir(), 'celerybeat-manifest-run-now-'));
  });
  after(async () => {
    await redis?.stop();
    await rm(manifests, { recursive: true, force: true });
  });

  test('run-now: the operator handles the token it re-reads from the file', async () => {
    await writeFile(join(manifests, 'tasks.yaml'), TASKS);
    const operator = startOperator(['--manifests', manifests, '--redis-url', redis.url]);
    try {
      await operator.waitForLog('the task', (l) => l.msg === 'task reconciled' && l.name === 'report');
      const r = cli(['run-now', '--manifests', manifests, 'report', '-n', 'apps', '--token', 'standalone-1']);
      assert.equal(r.status, 0, r.stderr);
      await operator.waitForLog(
        'run-now handled',
        (l) => l.msg === 'run-now handled' && l.name === 'report' && l.token === 'standalone-1',
        20_000,
      );
    } finally {
      await operator.stop();
    }
  });
});
