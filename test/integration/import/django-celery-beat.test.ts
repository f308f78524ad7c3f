// import --from django-celery-beat against tables and rows made by Debian's django-celery-beat (Django ORM:
// migrate, then the models' own save()) on the local PostgreSQL and on SQLite.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { importedTasks, reported, runCli, runPython } from './run-import.ts';

const DJANGO_DB = fileURLToPath(new URL('./django_beat_db.py', import.meta.url));
const POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

const ROWS = [
  {
    name: 'Every 20 seconds',
    task: 'tasks.add',
    interval: { every: 20, period: 'seconds' },
    args: '[1, 2]',
    kwargs: '{"x": 3}',
    queue: 'q',
    exchange: 'ex',
    routing_key: 'rk',
    priority: 5,
    headers: '{"tenant": "acme"}',
    expire_seconds: 30,
    last_run_at: '2026-11-24T10:00:00.123456Z',
    total_run_count: 7,
    description: 'moved from Django',
  },
  {
    name: 'weekly-berlin',
    task: 'tasks.add',
    crontab: {
      minute: '30',
      hour: '7',
      day_of_week: '1',
      day_of_month: '*',
      month_of_year: '*',
      timezone: 'Europe/Berlin',
    },
    last_run_at: '2026-11-23T06:30:00.5Z',
    total_run_count: 3,
  },
  { name: 'christmas', task: 'tasks.add', clocked: '2026-12-24T18:00:00Z', one_off: true },
  {
    name: 'paused',
    task: 'tasks.add',
    interval: { every: 2, period: 'hours' },
    enabled: false,
    start_time: '2026-12-01T00:00:00Z',
  },
  { name: 'sunset', task: 'tasks.add', solar: { event: 'sunset', latitude: '52.5', longitude: '13.4' } },
  {
    name: 'ends-2027',
    task: 'tasks.add',
    interval: { every: 1, period: 'days' },
    expires: '2027-01-01T00:00:00Z',
  },
  {
    name: 'bad-header',
    task: 'tasks.add',
    interval: { every: 1, period: 'days' },
    headers: '{"id": "mine"}',
  },
];

async function checkImport(database: string): Promise<void> {
  const result = await runCli([
    'import',
    '--from',
    'django-celery-beat',
    '--database',
    database,
    '--namespace',
    'apps',
  ]);
  assert.equal(result.code, 1, result.stderr);
  const problems = reported(result.stderr);
  assert.deepEqual([...problems.keys()].sort(), ['bad-header', 'ends-2027']);
  assert.match(problems.get('ends-2027')!, /expires 2027-01-01T00:00:00Z \(a fixed instant\)/);
  assert.match(problems.get('bad-header')!, /spec\.options\.headers\.id: Forbidden/);
  const tasks = await importedTasks(result);
  assert.deepEqual([...tasks.keys()].sort(), [
    'Every 20 seconds',
    'christmas',
    'paused',
    'sunset',
    'weekly-berlin',
  ]);
  const every = tasks.get('Every 20 seconds')!;
  assert.equal(every.metadata.name, 'every-20-seconds');
  assert.deepEqual(every.metadata.annotations, {
    'celerybeat.io/imported-from': 'django-celery-beat',
    'celerybeat.io/original-name': 'Every 20 seconds',
    'celerybeat.io/last-run-at': '2026-11-24T10:00:00.123Z',
    'celerybeat.io/total-run-count': '7',
  });
  assert.deepEqual(every.spec, {
    task: 'tasks.add',
    interval: { every: 20, period: 'seconds' },
    args: [1, 2],
    kwargs: { x: 3 },
    options: {
      queue: 'q',
      exchange: 'ex',
      routingKey: 'rk',
      priority: 5,
      expires: 30,
      headers: { tenant: 'acme' },
    },
    description: 'moved from Django',
  });
  const weekly = tasks.get('weekly-berlin')!;
  assert.deepEqual(weekly.spec.crontab, {
    minute: '30',
    hour: '7',
    dayOfWeek: '1',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  assert.equal(weekly.spec.timeZone, 'Europe/Berlin');
  assert.equal(weekly.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-23T06:30:00.500Z');
  const christmas = tasks.get('christmas')!;
  assert.equal(christmas.spec.clocked, '2026-12-24T18:00:00Z');
  assert.equal(christmas.spec.oneOff, true);
  // The decimal columns become numbers; the event keeps Celery's name.
  assert.deepEqual(tasks.get('sunset')!.spec.solar, { event: 'sunset', latitude: 52.5, longitude: 13.4 });
  const paused = tasks.get('paused')!;
  assert.equal(paused.spec.enabled, false);
  assert.equal(paused.spec.startTime, '2026-12-01T00:00:00Z');
  // django-celery-beat clears last_run_at when a task is saved disabled: nothing to carry over.
  assert.equal(paused.metadata.annotations?.['celerybeat.io/last-run-at'], undefined);
}

test('django-celery-beat on PostgreSQL', { timeout: 120_000 }, async () => {
  const name = `dcb_import_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    await runPython([
      DJANGO_DB,
      JSON.stringify({
        ENGINE: 'django.db.backends.postgresql',
        NAME: name,
        USER: 'postgres',
        HOST: '127.0.0.1',
        PORT: '5432',
      }),
      JSON.stringify(ROWS),
    ]);
    await checkImport(`postgres://postgres:not-needed@127.0.0.1:5432/${name}`);
    const missing = await runCli([
      'import',
      '--from',
      'django-celery-beat',
      '--database',
      `postgresql://postgres:pw-x1@127.0.0.1:5432/${name}_none`,
    ]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^celerybeat-operator import: cannot connect to PostgreSQL: database "\w+" does not exist\n$/,
    );
    assert.doesNotMatch(missing.stderr, /pw-x1/);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});

test('django-celery-beat on SQLite', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcb-sqlite-'));
  try {
    const file = join(dir, 'db.sqlite3');
    await runPython([
      DJANGO_DB,
      JSON.stringify({ ENGINE: 'django.db.backends.sqlite3', NAME: file }),
      JSON.stringify(ROWS),
    ]);
    await checkImport(`sqlite:///${file}`);
    // Three slashes and a relative path, as Django and SQLAlchemy URLs write it.
    const relative = await runCli(
      ['import', '--from', 'django-celery-beat', '--database', 'sqlite:///db.sqlite3'],
      dir,
    );
    assert.equal(relative.code, 1);
    assert.equal(reported(relative.stderr).size, 2, relative.stderr);
    const absent = await runCli([
      'import',
      '--from',
      'django-celery-beat',
      '--database',
      `sqlite:///${dir}/none.sqlite3`,
    ]);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /no SQLite database at .*none\.sqlite3/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
