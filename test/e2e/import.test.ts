// The move end to end, from every source at once: schedules that last ran a few seconds ago in
// celerybeat-redis, RedBeat, django-celery-beat (SQLite, made by its ORM) and a Celery app (its beat state
// file written by Celery's PersistentScheduler) → `import` → applied into a standalone manifest directory and
// onto a real API server → a real Celery worker runs each task at the slot the old scheduler would have used
// next (its last run + the interval, not "one interval after the import"), once, and the run count goes on.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { encodeDatetime } from '../../src/store/datetime.ts';
import { PYTHON, runCli, runPython } from '../integration/import/run-import.ts';
import { type Execution, startCeleryWorker } from '../support/celery-worker.ts';
import { operatorNamespace, startClusterOperator } from '../support/operator-cluster.ts';
import { startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

const REDBEAT_WRITER = fileURLToPath(new URL('../integration/import/redbeat_writer.py', import.meta.url));
const DJANGO_DB = fileURLToPath(new URL('../integration/import/django_beat_db.py', import.meta.url));
const QUEUE = 'e2e-import';
const EVERY_S = 40;

const appProject = (lastRunIso: string) => `from datetime import datetime
from celery import Celery
app = Celery('proj', broker='memory://')
app.conf.beat_schedule = {'App Moved': {'task': 'tasks.record', 'schedule': ${EVERY_S}.0,
                                        'args': ('celery-app',), 'options': {'queue': '${QUEUE}'}}}
if __name__ == '__main__':
    from celery.beat import PersistentScheduler
    scheduler = PersistentScheduler(app=app, schedule_filename='celerybeat-schedule', lazy=False)
    scheduler.schedule['App Moved'].last_run_at = datetime.fromisoformat('${lastRunIso.replace('Z', '+00:00')}')
    scheduler.schedule['App Moved'].total_run_count = 8
    scheduler.sync()
    scheduler.close()
`;

/** The sources, each holding one schedule every EVERY_S seconds that last ran at `lastRun`. */
async function writeSources(
  dir: string,
  redisUrl: string,
  lastRun: number,
): Promise<Record<string, string[]>> {
  const iso = new Date(lastRun).toISOString();
  const redis = new Redis(redisUrl);
  await redis.set(
    'tasks:meta:cbr-moved',
    JSON.stringify({
      name: 'cbr-moved',
      task: 'tasks.record',
      interval: { every: EVERY_S, period: 'seconds' },
      args: ['celerybeat-redis'],
      kwargs: {},
      queue: QUEUE,
      last_run_at: encodeDatetime(lastRun),
      total_run_count: 5,
    }),
  );
  redis.disconnect();
  await mkdir(join(dir, 'proj'));
  await writeFile(join(dir, 'proj', '__init__.py'), '');
  await writeFile(join(dir, 'proj', 'celery.py'), appProject(iso));
  const sqlite = join(dir, 'beat.sqlite3');
  await Promise.all([
    runPython([
      REDBEAT_WRITER,
      redisUrl,
      JSON.stringify([
        {
          name: 'RedBeat Moved',
          task: 'tasks.record',
          schedule: { every: EVERY_S },
          args: ['redbeat'],
          options: { queue: QUEUE },
          last_run_at: iso,
          zone: 'Europe/Berlin',
          total_run_count: 6,
        },
      ]),
    ]),
    runPython([
      DJANGO_DB,
      JSON.stringify({ ENGINE: 'django.db.backends.sqlite3', NAME: sqlite }),
      JSON.stringify([
        {
          name: 'DCB Moved',
          task: 'tasks.record',
          interval: { every: EVERY_S, period: 'seconds' },
          args: '["django-celery-beat"]',
          queue: QUEUE,
          last_run_at: iso,
          total_run_count: 7,
        },
      ]),
    ]),
    runPython(['-m', 'proj.celery'], dir),
  ]);
  return {
    'celerybeat-redis': ['--from', 'celerybeat-redis', '--redis-url', redisUrl],
    redbeat: ['--from', 'redbeat', '--redis-url', redisUrl],
    'django-celery-beat': ['--from', 'django-celery-beat', '--database', `sqlite:///${sqlite}`],
    'celery-app': [
      '--from',
      'celery-app',
      'proj.celery:app',
      '--python',
      PYTHON,
      '--workdir',
      dir,
      '--schedule-file',
      'celerybeat-schedule',
    ],
  };
}

const CARRIED: Record<string, { name: string; runs: number }> = {
  'celerybeat-redis': { name: 'cbr-moved', runs: 5 },
  redbeat: { name: 'redbeat-moved', runs: 6 },
  'django-celery-beat': { name: 'dcb-moved', runs: 7 },
  'celery-app': { name: 'app-moved', runs: 8 },
};

test('import from every source, apply standalone and on a real API server: each runs at its next slot', {
  timeout: 240_000,
}, async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-import');
  const server = await startRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'e2e-import-'));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  const sourceUrl = `${server.url}/1`;
  const worker = await startCeleryWorker({ brokerUrl: server.url, queues: [QUEUE] });
  const standalone = startOperator([
    '--manifests',
    manifests,
    '--redis-url',
    server.url,
    '--leader-elect',
    'none',
  ]);
  // One Redis for both: the standalone operator watches every namespace, so the two keep their keys under
  // prefixes that do not nest (docs/sharing-redis.md).
  const inCluster = startClusterOperator(ns, server.url, ['--key-prefix', 'cluster:']);
  try {
    await inCluster.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    // Whole milliseconds: every source keeps at least those, so the slot below is exact.
    const lastRun = Math.floor(Date.now() / 1000) * 1000 - 5000;
    const slot = lastRun + EVERY_S * 1000;
    const sources = await writeSources(dir, sourceUrl, lastRun);

    const imported = await Promise.all(
      Object.entries(sources).map(async ([source, args]) => {
        const [local, remote] = await Promise.all([
          runCli(['import', ...args]),
          runCli(['import', ...args, '--namespace', ns.namespace]),
        ]);
        for (const r of [local, remote]) assert.equal(r.code, 0, `${source}: ${r.stderr}`);
        await writeFile(join(manifests, `${source}.yaml`), local.stdout);
        return remote.stdout;
      }),
    );
    await cluster.kubectl(['apply', '-f', '-'], { input: imported.join('') });
    assert.ok(Date.now() < slot - 3000, 'the move finished before the next slot');

    const names = Object.values(CARRIED).flatMap(({ name }) => [
      `default/${name}`,
      `${ns.namespace}/${name}`,
    ]);
    const runsOf = (xs: Execution[], name: string) => xs.filter((e) => e.request.periodic_task_name === name);
    const executions = await worker.waitForExecutions(
      (xs) => names.every((n) => runsOf(xs, n).length >= 1),
      slot - Date.now() + 20_000,
    );
    for (const name of names) {
      const [first, ...more] = runsOf(executions, name);
      assert.equal(more.length, 0, `${name} ran once`);
      // The slot the old scheduler would have used next: its last run + the interval.
      assert.equal(Date.parse(String(first!.request.periodic_task_scheduled_at)), slot, name);
      assert.ok(first!.startedAt >= slot, `${name} did not run before its slot`);
    }
    const redbeatRun = runsOf(executions, `${ns.namespace}/redbeat-moved`)[0]!;
    assert.equal(redbeatRun.request.original_periodic_task_name, 'RedBeat Moved');
    assert.deepEqual(redbeatRun.args, ['redbeat']);

    // The run count carries on from the source's: in the resource's status, and in the standalone Redis key.
    await waitUntil(
      'statuses with the carried run counts + 1',
      async () => {
        const list = JSON.parse(await cluster.kubectl(['get', 'pt', '-n', ns.namespace, '-o', 'json'])) as {
          items: PeriodicTask[];
        };
        const counts = new Map(list.items.map((t) => [t.metadata.name, t.status?.totalRunCount]));
        return Object.values(CARRIED).every(({ name, runs }) => counts.get(name) === runs + 1);
      },
      20_000,
    );
    const store = new Redis(server.url);
    try {
      for (const { name, runs } of Object.values(CARRIED)) {
        const value = JSON.parse((await store.get(`tasks:meta:default/${name}`))!) as {
          total_run_count: number;
        };
        assert.equal(value.total_run_count, runs + 1, name);
      }
    } finally {
      store.disconnect();
    }
  } finally {
    await Promise.allSettled([standalone.stop(), inCluster.stop()]);
    await worker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
