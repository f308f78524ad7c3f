// The mappers of each source, from the values the sources really hold to PeriodicTask specs, and the
// documents built from them (validated, annotated). The readers themselves are tested against real Redis,
// PostgreSQL, SQLite and Celery in test/integration/import/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { celeryAppEntries } from '../../../src/import/celery-app-entry.ts';
import { djangoEntries } from '../../../src/import/django-celery-beat-entry.ts';
import { buildManifests } from '../../../src/import/manifests.ts';
import { instantOf, readRedBeatEntry } from '../../../src/import/redbeat-entry.ts';
import type { SourceEntry } from '../../../src/import/source-entry.ts';
import { wallTimeToInstant } from '../../../src/import/wall-time.ts';

const ok = (entry: SourceEntry) => {
  assert.ok(entry.ok, entry.ok ? '' : entry.problem);
  return entry;
};
const problem = (entry: SourceEntry) => {
  assert.ok(!entry.ok, 'expected a problem');
  return entry.problem;
};

test('a wall time in a zone is read as Python reads it with fold=0', () => {
  // Autumn in Berlin: 02:30 happens twice; fold=0 is the first (CEST, +02:00).
  assert.equal(
    wallTimeToInstant(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin'),
    Date.UTC(2026, 9, 25, 0, 30),
  );
  // Spring: 02:30 does not exist; Python keeps the offset before the change (+01:00).
  assert.equal(
    wallTimeToInstant(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin'),
    Date.UTC(2026, 2, 29, 1, 30),
  );
  assert.equal(
    wallTimeToInstant(Date.UTC(2026, 6, 1, 12, 0, 0, 250), 'UTC'),
    Date.UTC(2026, 6, 1, 12, 0, 0, 250),
  );
});

test('RedBeat datetimes: an IANA zone, an offset in seconds, none (UTC), an ISO string', () => {
  const wall = {
    __type__: 'datetime',
    year: 2026,
    month: 7,
    day: 1,
    hour: 9,
    minute: 0,
    second: 5,
    microsecond: 250000,
  };
  const utc = Date.UTC(2026, 6, 1, 9, 0, 5, 250);
  assert.equal(instantOf({ ...wall, timezone: 'Europe/Berlin' }), utc - 2 * 3_600_000);
  assert.equal(instantOf({ ...wall, timezone: 7200 }), utc - 2 * 3_600_000);
  assert.equal(instantOf({ ...wall, timezone: -18000.0 }), utc + 5 * 3_600_000);
  assert.equal(instantOf(wall), utc);
  assert.equal(instantOf('2026-07-01T09:00:05.250000+00:00'), utc);
  assert.throws(() => instantOf({ ...wall, timezone: 'Mars/Olympus' }), /not a known time zone/);
});

test('RedBeat definitions: interval, crontab, options, disabled; relative, rrule and bad JSON are reported', () => {
  const definition = (schedule: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      name: 'Nightly',
      task: 'tasks.add',
      args: [1],
      kwargs: {},
      options: {},
      schedule,
      enabled: true,
      ...extra,
    });
  const interval = ok(
    readRedBeatEntry(
      'Nightly',
      definition(
        { __type__: 'interval', every: 90.5, relative: false },
        { enabled: false, options: { queue: 'q', routing_key: 'k', priority: 3 } },
      ),
      JSON.stringify({
        last_run_at: {
          __type__: 'datetime',
          year: 2026,
          month: 1,
          day: 2,
          hour: 3,
          minute: 4,
          second: 5,
          microsecond: 0,
          timezone: 'UTC',
        },
        total_run_count: 9,
      }),
    ),
  );
  assert.deepEqual(interval.spec, {
    task: 'tasks.add',
    interval: { every: 90_500_000, period: 'microseconds' },
    enabled: false,
    args: [1],
    options: { queue: 'q', routingKey: 'k', priority: 3 },
  });
  assert.equal(interval.lastRunAt, Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(interval.totalRunCount, 9);
  const cron = ok(
    readRedBeatEntry(
      'c',
      definition({
        __type__: 'crontab',
        minute: '*/15',
        hour: 7,
        day_of_week: 'mon-fri',
        day_of_month: '*',
        month_of_year: [1, 6],
      }),
      null,
    ),
  );
  assert.deepEqual(cron.spec.crontab, {
    minute: '*/15',
    hour: '7',
    dayOfWeek: 'mon-fri',
    dayOfMonth: '*',
    monthOfYear: '1,6',
  });
  assert.equal(cron.lastRunAt, null);
  assert.match(
    problem(readRedBeatEntry('r', definition({ __type__: 'interval', every: 60, relative: true }), null)),
    /relative=True/,
  );
  assert.match(problem(readRedBeatEntry('r', definition({ __type__: 'rrule', freq: 3 }), null)), /rrule/);
  assert.match(problem(readRedBeatEntry('r', '{oops', null)), /definition is not JSON/);
  assert.match(
    problem(
      readRedBeatEntry(
        'r',
        definition({ __type__: 'interval', every: 60, relative: false }, { options: { countdown: 5 } }),
        null,
      ),
    ),
    /"countdown"/,
  );
});

test('django-celery-beat rows: every column mapped, solar included; expires and bad JSON reported', () => {
  const entries = djangoEntries({
    tasks: [
      {
        id: 1,
        name: 'every 20s',
        task: 'tasks.add',
        interval_id: 7,
        crontab_id: null,
        solar_id: null,
        clocked_id: null,
        args: '[1, 2]',
        kwargs: '{"x": 1}',
        queue: 'q',
        exchange: null,
        routing_key: null,
        headers: '{"tenant": "acme"}',
        priority: 5,
        expires: null,
        expire_seconds: 30,
        one_off: 0,
        start_time: '2026-12-01 00:00:00+00',
        enabled: 1,
        last_run_at: '2026-11-24 10:00:00.123456+00',
        total_run_count: 7,
        description: 'd',
      },
      {
        id: 2,
        name: 'berlin',
        task: 'tasks.add',
        crontab_id: 3,
        args: '[]',
        kwargs: '{}',
        enabled: true,
        total_run_count: 0,
      },
      { id: 3, name: 'sun', task: 'tasks.add', solar_id: 1, enabled: true },
      {
        id: 4,
        name: 'expiring',
        task: 'tasks.add',
        interval_id: 7,
        expires: '2027-01-01 00:00:00',
        enabled: true,
      },
      { id: 5, name: 'broken', task: 'tasks.add', interval_id: 7, args: '[1,', enabled: true },
      { id: 6, name: 'once', task: 'tasks.add', clocked_id: 2, one_off: true, enabled: false },
    ],
    intervals: [{ id: 7, every: 20, period: 'seconds' }],
    crontabs: [
      {
        id: 3,
        minute: '30',
        hour: '7',
        day_of_week: '1',
        day_of_month: '*',
        month_of_year: '*',
        timezone: 'Europe/Berlin',
      },
    ],
    clocked: [{ id: 2, clocked_time: '2026-12-24 18:00:00' }],
    solar: [{ id: 1, event: 'sunset', latitude: '52.5', longitude: '13.4' }],
  });
  const byName = new Map(entries.map((e) => [e.name, e]));
  const every = ok(byName.get('every 20s')!);
  assert.deepEqual(every.spec, {
    task: 'tasks.add',
    interval: { every: 20, period: 'seconds' },
    args: [1, 2],
    kwargs: { x: 1 },
    options: { queue: 'q', priority: 5, expires: 30, headers: { tenant: 'acme' } },
    startTime: '2026-12-01T00:00:00Z',
    description: 'd',
  });
  assert.equal(every.lastRunAt, Date.UTC(2026, 10, 24, 10, 0, 0, 123) + 0.456);
  assert.equal(every.totalRunCount, 7);
  assert.deepEqual(ok(byName.get('berlin')!).spec, {
    task: 'tasks.add',
    crontab: { minute: '30', hour: '7', dayOfWeek: '1', dayOfMonth: '*', monthOfYear: '*' },
    timeZone: 'Europe/Berlin',
  });
  assert.deepEqual(ok(byName.get('once')!).spec, {
    task: 'tasks.add',
    clocked: '2026-12-24T18:00:00Z',
    enabled: false,
    oneOff: true,
  });
  assert.deepEqual(ok(byName.get('sun')!).spec, {
    task: 'tasks.add',
    solar: { event: 'sunset', latitude: 52.5, longitude: 13.4 },
  });
  assert.match(problem(byName.get('expiring')!), /expires 2027-01-01T00:00:00Z \(a fixed instant\)/);
  assert.match(problem(byName.get('broken')!), /args is not JSON/);
});

test('celery-app entries: crontabs take the app zone, solar is carried; relative and Python objects are reported', () => {
  const app = {
    timezone: 'Europe/Berlin',
    entries: [
      {
        name: 'a',
        task: 't',
        schedule: { kind: 'seconds', value: 30, relative: false },
        args: [1],
        kwargs: {},
        options: { queue: 'q', expires: 60 },
        last_run_at: '2026-11-24T11:00:00.5+01:00',
        total_run_count: 3,
      },
      {
        name: 'b',
        task: 't',
        schedule: { kind: 'microseconds', value: 300_000_000, relative: false },
        args: [],
        options: {},
      },
      {
        name: 'c',
        task: 't',
        schedule: {
          kind: 'crontab',
          minute: '30',
          hour: '7',
          day_of_week: 'mon',
          day_of_month: '*',
          month_of_year: '*',
        },
        options: {},
      },
      { name: 'd', task: 't', schedule: { kind: 'seconds', value: 60, relative: true }, options: {} },
      { name: 'e', task: 't', schedule: { kind: 'solar', event: 'sunrise', lat: 1, lon: 2 }, options: {} },
      { name: 'f', task: 't', schedule: { kind: 'unsupported', class: 'proj.Custom' }, options: {} },
      {
        name: 'g',
        task: 't',
        schedule: { kind: 'seconds', value: 5 },
        args: [{ __python__: 'datetime.date' }],
        options: {},
      },
      {
        name: 'h',
        task: 't',
        schedule: { kind: 'seconds', value: 5 },
        options: { expires: { __python__: 'datetime.datetime' } },
      },
    ],
  };
  const [a, b, c, d, e, f, g, h] = celeryAppEntries(app, undefined);
  assert.deepEqual(ok(a!).spec, {
    task: 't',
    interval: { every: 30, period: 'seconds' },
    args: [1],
    options: { queue: 'q', expires: 60 },
  });
  assert.equal(ok(a!).lastRunAt, Date.UTC(2026, 10, 24, 10, 0, 0, 500));
  assert.deepEqual(ok(b!).spec, { task: 't', interval: { every: 5, period: 'minutes' } });
  assert.equal(ok(c!).spec.timeZone, 'Europe/Berlin');
  assert.match(problem(d!), /relative=True/);
  assert.deepEqual(ok(e!).spec, { task: 't', solar: { event: 'sunrise', latitude: 1, longitude: 2 } });
  assert.match(problem(f!), /proj\.Custom/);
  assert.match(problem(g!), /args\[0\] is a Python datetime\.date/);
  assert.match(problem(h!), /options\.expires is a Python datetime\.datetime/);
  const local = celeryAppEntries({ timezone: null, entries: [app.entries[2]!] }, undefined);
  assert.match(problem(local[0]!), /--timezone/);
});

test('documents: namespace, DNS-safe names, annotations (the original name always); invalid ones reported', () => {
  const entries: SourceEntry[] = [
    {
      ok: true,
      name: 'Nightly Report',
      spec: { task: 't', crontab: { minute: '0' } },
      lastRunAt: Date.UTC(2026, 0, 1, 3),
      totalRunCount: 12,
    },
    {
      ok: true,
      name: 'fresh',
      spec: { task: 't', interval: { every: 5, period: 'seconds' }, options: { headers: { a: 1 } } },
      lastRunAt: null,
      totalRunCount: 0,
    },
    {
      ok: true,
      name: 'moved-before',
      spec: {
        task: 't',
        interval: { every: 5, period: 'seconds' },
        options: { headers: { original_periodic_task_name: 'Old Name' } },
      },
      lastRunAt: null,
      totalRunCount: 0,
    },
    {
      ok: true,
      name: 'bad-minute',
      spec: { task: 't', crontab: { minute: '61' } },
      lastRunAt: null,
      totalRunCount: 0,
    },
    {
      ok: true,
      name: 'reserved',
      spec: {
        task: 't',
        interval: { every: 5, period: 'seconds' },
        options: { headers: { periodic_task_name: 'x' } },
      },
      lastRunAt: null,
      totalRunCount: 0,
    },
    {
      ok: false,
      name: 'weekly',
      problem: 'rrule schedules cannot be expressed (no PeriodicTask equivalent)',
    },
  ];
  const { documents, problems } = buildManifests(entries, {
    namespace: 'apps',
    source: 'redbeat',
    crontabTimeZone: 'Europe/Berlin',
  });
  assert.equal(documents.length, 3);
  const [nightly, fresh, moved] = documents;
  assert.deepEqual(nightly!.metadata, {
    name: 'nightly-report',
    namespace: 'apps',
    annotations: {
      'celerybeat.io/imported-from': 'redbeat',
      'celerybeat.io/original-name': 'Nightly Report',
      'celerybeat.io/last-run-at': '2026-01-01T03:00:00Z',
      'celerybeat.io/total-run-count': '12',
    },
  });
  assert.equal(nightly!.spec.timeZone, 'Europe/Berlin');
  assert.equal(nightly!.spec.options, undefined);
  assert.deepEqual(fresh!.metadata.annotations, {
    'celerybeat.io/imported-from': 'redbeat',
    'celerybeat.io/original-name': 'fresh',
  });
  assert.equal(fresh!.spec.timeZone, undefined, 'an interval needs no zone');
  assert.deepEqual(fresh!.spec.options, { headers: { a: 1 } });
  // The header is the operator's now: a value the source set moves to the annotation.
  assert.equal(moved!.metadata.annotations?.['celerybeat.io/original-name'], 'Old Name');
  assert.deepEqual(moved!.spec.options, {});
  assert.deepEqual(
    problems.map((p) => p.name),
    ['bad-minute', 'reserved', 'weekly'],
  );
  assert.match(problems[0]!.message, /^spec\.crontab\.minute: Invalid value: "61"/);
  assert.match(problems[1]!.message, /spec\.options\.headers\.periodic_task_name: Forbidden/);
});
