// import --from celerybeat-redis and --from redbeat against a real Redis: keys written in the seed's
// documented shape and its 0.1.x shape, RedBeat hashes written from real Celery schedule objects in
// RedBeat's format (an IANA zone, an offset, no zone), and what each source cannot express reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { usePrivateRedis } from '../../support/private-redis.ts';
import { importedTasks, reported, runCli, runPython } from './run-import.ts';

const REDBEAT_WRITER = fileURLToPath(new URL('./redbeat_writer.py', import.meta.url));

const local = usePrivateRedis();

test('celerybeat-redis: both shapes and solar, run state carried, owned keys skipped, a bad key reported', async () => {
  const url = `${local.server.url}/2`;
  const db = new Redis(url);
  try {
    await db.set(
      'tasks:meta:every-30s',
      JSON.stringify({
        name: 'every-30s',
        task: 'tasks.add',
        enabled: true,
        interval: { every: 30, period: 'seconds' },
        queue: 'celery',
        args: [2, 3],
        kwargs: { x: 1 },
        last_run_at: {
          __type__: 'datetime',
          year: 2026,
          month: 11,
          day: 24,
          hour: 10,
          minute: 0,
          second: 0,
          microsecond: 123456,
        },
        total_run_count: 4,
      }),
    );
    await db.set(
      'tasks:meta:Monday 7:30',
      JSON.stringify({
        task: 'tasks.add',
        enabled: false,
        schedule: { minute: '30', hour: '7', day_of_week: '1', day_of_month: '*', month_of_year: '*' },
        options: { queue: 'q2' },
        name: 'tasks:meta:Monday 7:30',
        last_run_at: '2026-11-23T07:30:00',
      }),
    );
    await db.set(
      'tasks:meta:default/declared',
      JSON.stringify({
        name: 'default/declared',
        task: 't',
        interval: { every: 1, period: 'seconds' },
        owner: { namespace: 'default', name: 'declared', uid: 'u' },
      }),
    );
    await db.set(
      'tasks:meta:at-dawn',
      JSON.stringify({
        name: 'at-dawn',
        task: 'tasks.add',
        solar: { event: 'dawn_civil', lat: -33.87, lon: 151.21 },
        last_run_at: '2026-11-23T18:20:00',
      }),
    );
    await db.set(
      'tasks:meta:broken',
      JSON.stringify({ name: 'broken', task: 't', crontab: { minute: '61' } }),
    );
    await db.set('other:key', 'not under the prefix');

    const result = await runCli([
      'import',
      '--from',
      'celerybeat-redis',
      '--redis-url',
      url,
      '--namespace',
      'apps',
      '--timezone',
      'Europe/Berlin',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.deepEqual(
      [...reported(result.stderr).keys()],
      ['broken'],
      'the owned key is skipped, not reported',
    );
    assert.match(reported(result.stderr).get('broken')!, /^crontab\.minute: /);
    const tasks = await importedTasks(result);
    assert.deepEqual([...tasks.keys()].sort(), ['Monday 7:30', 'at-dawn', 'every-30s']);
    const dawn = tasks.get('at-dawn')!;
    assert.deepEqual(dawn.spec.solar, { event: 'dawn_civil', latitude: -33.87, longitude: 151.21 });
    assert.equal(dawn.spec.timeZone, undefined, 'solar events are instants: no zone');
    assert.equal(dawn.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-23T18:20:00Z');
    const every = tasks.get('every-30s')!;
    assert.equal(every.metadata.namespace, 'apps');
    assert.equal(every.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-24T10:00:00.123Z');
    assert.equal(every.metadata.annotations?.['celerybeat.io/total-run-count'], '4');
    assert.deepEqual(every.spec.interval, { every: 30, period: 'seconds' });
    assert.deepEqual(every.spec.options?.queue, 'celery');
    const monday = tasks.get('Monday 7:30')!;
    assert.equal(monday.metadata.name, 'monday-7-30');
    assert.equal(monday.spec.enabled, false);
    assert.equal(monday.spec.timeZone, 'Europe/Berlin');
    assert.deepEqual(monday.spec.crontab, {
      minute: '30',
      hour: '7',
      dayOfWeek: '1',
      dayOfMonth: '*',
      monthOfYear: '*',
    });
    assert.equal(monday.metadata.annotations?.['celerybeat.io/original-name'], 'Monday 7:30');
    assert.equal(monday.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-23T07:30:00Z');
  } finally {
    db.disconnect();
  }
});

test('redbeat: entries from real Celery schedules in RedBeat format; its own keys skipped; relative and rrule reported', async () => {
  const url = `${local.server.url}/3`;
  await runPython([
    REDBEAT_WRITER,
    url,
    JSON.stringify([
      {
        name: 'Nightly Report',
        task: 'tasks.add',
        schedule: { crontab: { minute: 0, hour: '3', day_of_week: 'mon-fri' } },
        options: { queue: 'reports', priority: 3 },
        last_run_at: '2026-10-25T00:30:00.000250Z',
        zone: 'Europe/Berlin',
        total_run_count: 41,
      },
      {
        name: 'every-90s',
        task: 'tasks.add',
        schedule: { every: 90 },
        args: [1, 2],
        kwargs: { x: 3 },
        last_run_at: '2026-11-24T10:00:00Z',
        offset: 3600,
        total_run_count: 2,
      },
      {
        name: 'legacy',
        task: 'tasks.add',
        schedule: { every: 0.25 },
        last_run_at: '2026-11-24T10:00:00Z',
        enabled: false,
      },
      { name: 'never-ran', task: 'tasks.add', schedule: { every: 3600 } },
      { name: 'relative', task: 'tasks.add', schedule: { every: 3600, relative: true } },
      { name: 'rrule', task: 'tasks.add', schedule: { rrule: { freq: 3, interval: 1 } } },
      { name: 'with-eta', task: 'tasks.add', schedule: { every: 60 }, options: { countdown: 10 } },
    ]),
  ]);
  const result = await runCli([
    'import',
    '--from',
    'redbeat',
    '--redis-url',
    url,
    '--timezone',
    'Europe/Berlin',
  ]);
  assert.equal(result.code, 1, result.stderr);
  const problems = reported(result.stderr);
  assert.deepEqual([...problems.keys()].sort(), ['relative', 'rrule', 'with-eta']);
  assert.match(problems.get('relative')!, /relative=True/);
  assert.match(problems.get('rrule')!, /rrule/);
  assert.match(problems.get('with-eta')!, /"countdown"/);
  assert.match(result.stderr, /4 PeriodicTask\(s\) printed, 3 schedule\(s\) not imported/);
  const tasks = await importedTasks(result);
  const nightly = tasks.get('Nightly Report')!;
  assert.equal(nightly.metadata.name, 'nightly-report');
  assert.deepEqual(nightly.spec.crontab, {
    minute: '0',
    hour: '3',
    dayOfWeek: 'mon-fri',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  assert.equal(nightly.spec.timeZone, 'Europe/Berlin');
  assert.deepEqual(nightly.spec.options, {
    queue: 'reports',
    priority: 3,
  });
  assert.equal(nightly.metadata.annotations?.['celerybeat.io/original-name'], 'Nightly Report');
  // Written as Berlin wall time (02:30:00.000250 CEST, the first of the two that night) and read back exactly.
  assert.equal(nightly.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-10-25T00:30:00Z');
  assert.equal(nightly.metadata.annotations?.['celerybeat.io/total-run-count'], '41');
  const every = tasks.get('every-90s')!;
  assert.deepEqual(every.spec.interval, { every: 90, period: 'seconds' });
  assert.deepEqual(every.spec.args, [1, 2]);
  assert.deepEqual(every.spec.kwargs, { x: 3 });
  assert.equal(every.spec.timeZone, undefined);
  assert.equal(every.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-24T10:00:00Z');
  const legacy = tasks.get('legacy')!;
  assert.deepEqual(legacy.spec.interval, { every: 250_000, period: 'microseconds' });
  assert.equal(legacy.spec.enabled, false);
  assert.equal(tasks.get('never-ran')!.metadata.annotations?.['celerybeat.io/last-run-at'], undefined);
});

test('bad usage exits 2 with one line; an unreachable Redis exits 1 without the password', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['import'], /--from is required/],
    [
      ['import', '--from', 'beat'],
      /--from must be celerybeat-redis, redbeat, django-celery-beat or celery-app/,
    ],
    [['import', '--from', 'redbeat'], /--redis-url is required/],
    [
      ['import', '--from', 'redbeat', '--redis-url', 'http://x'],
      /--redis-url must start with redis:\/\/, rediss:\/\//,
    ],
    [
      ['import', '--from', 'redbeat', '--redis-url', 'redis://x', '--database', 'sqlite:///x'],
      /--database does not apply to --from redbeat/,
    ],
    [
      ['import', '--from', 'redbeat', '--redis-url', 'redis://x', '--namespace', 'Bad_NS'],
      /--namespace must be a lowercase RFC 1123 label/,
    ],
    [
      ['import', '--from', 'redbeat', '--redis-url', 'redis://x', '--timezone', 'Europe/Berln'],
      /unknown IANA time zone/,
    ],
    [['import', '--from', 'celery-app'], /give the app as one argument/],
    [['import', '--from', 'redbeat', '--redis-url'], /needs a value/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const unreachable = await runCli([
    'import',
    '--from',
    'redbeat',
    '--redis-url',
    'redis://:s3cret-pw@127.0.0.1:1/0',
  ]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^celerybeat-operator import: cannot connect to Redis: /);
  assert.doesNotMatch(unreachable.stderr, /s3cret-pw/);
  const empty = await runCli(['import', '--from', 'redbeat', '--redis-url', `${local.server.url}/9`]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no schedules found in redis:\/\/127\.0\.0\.1:\d+\/9 under "redbeat:"/);
  const help = await runCli(['import', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: celerybeat-operator import --from SOURCE/);
});
