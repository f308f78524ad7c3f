// The validator: normalisation of valid manifests, and the table of invalid ones each naming its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';
import { INVALID_CASES, invalidManifest } from './invalid-manifests.ts';

const manifest = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'demo' }) => ({
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTask',
  metadata,
  spec,
});

test('a minimal interval task gets the defaults', () => {
  const r = validatePeriodicTask(
    manifest({ task: 'tasks.add', interval: { every: 30, period: 'seconds' } }),
    {
      defaultTimeZone: 'Europe/Berlin',
    },
  );
  assert.ok(r.ok);
  assert.deepEqual(r.definition, {
    namespace: 'default',
    name: 'demo',
    uid: '',
    generation: 0,
    task: 'tasks.add',
    schedule: { kind: 'interval', every: 30, period: 'seconds' },
    timeZone: 'Europe/Berlin',
    enabled: true,
    args: [],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    oneOff: false,
  });
});

test('cron stays a CronJob schedule string, with its documented crontab; omitted crontab fields are "*"; times become epoch ms', () => {
  const cron = validatePeriodicTask(
    manifest({ task: 't', cron: ' 30  7 * * mon-fri ', timeZone: 'Asia/Kolkata' }),
    {
      defaultTimeZone: 'UTC',
    },
  );
  assert.ok(cron.ok);
  assert.deepEqual(cron.definition.schedule, {
    kind: 'cron',
    expression: ' 30  7 * * mon-fri ',
    documented: {
      crontab: { minute: '30', hour: '7', day_of_week: '1,2,3,4,5', day_of_month: '*', month_of_year: '*' },
    },
  });
  assert.equal(cron.definition.timeZone, 'Asia/Kolkata');
  const crontab = validatePeriodicTask(
    manifest({ task: 't', crontab: { hour: '3' }, startTime: '2026-12-01T00:00:00+01:00' }),
    {
      defaultTimeZone: 'UTC',
    },
  );
  assert.ok(crontab.ok);
  assert.deepEqual(crontab.definition.schedule, {
    kind: 'crontab',
    minute: '*',
    hour: '3',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  assert.equal(crontab.definition.startTime, Date.UTC(2026, 10, 30, 23));
  const clocked = validatePeriodicTask(manifest({ task: 't', clocked: '2026-12-24T18:00:00.250Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(clocked.ok);
  assert.deepEqual(clocked.definition.schedule, {
    kind: 'clocked',
    at: Date.UTC(2026, 11, 24, 18, 0, 0, 250),
  });
  const solar = validatePeriodicTask(
    manifest({ task: 't', solar: { event: 'sunset', latitude: -33.87, longitude: 151.21 } }),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(solar.ok);
  assert.deepEqual(solar.definition.schedule, {
    kind: 'solar',
    event: 'sunset',
    latitude: -33.87,
    longitude: 151.21,
    // About 18:04 local mean solar time at the equinox, 10h05 ahead of UTC.
    documented: {
      crontab: { minute: '59', hour: '7', day_of_week: '*', day_of_month: '*', month_of_year: '*' },
    },
  });
});

test('endTime, maxRuns and catchUp: carried over as instants and counts; Latest (the default) is absent', () => {
  const r = validatePeriodicTask(
    manifest({
      task: 't',
      cron: '*/5 * * * *',
      startTime: '2026-12-01T00:00:00Z',
      endTime: '2026-12-31T23:00:00+01:00',
      maxRuns: 12,
      catchUp: 'All',
    }),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(r.ok);
  assert.equal(r.definition.endTime, Date.UTC(2026, 11, 31, 22));
  assert.equal(r.definition.maxRuns, 12);
  assert.equal(r.definition.catchUp, 'All');
  const latest = validatePeriodicTask(manifest({ task: 't', cron: '@hourly', catchUp: 'Latest' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(latest.ok);
  assert.equal(latest.definition.catchUp, undefined);
  assert.equal(latest.definition.endTime, undefined);
});

test('every option, metadata and free JSON are carried over; null fields count as absent', () => {
  const r = validatePeriodicTask(
    manifest(
      {
        task: 'tasks.add',
        interval: { every: 1, period: 'days' },
        cron: null,
        args: [1, null, { a: [true] }],
        kwargs: { x: null },
        options: {
          queue: 'q2',
          exchange: '',
          routingKey: 'rk',
          priority: 9,
          expires: 1.5,
          headers: { tenant: 'acme' },
          timeLimit: 30,
          softTimeLimit: 20,
        },
        enabled: false,
        oneOff: true,
        startingDeadlineSeconds: 60,
        description: 'd',
      },
      { name: 'n', namespace: 'ns', uid: 'u-1', generation: 4 },
    ),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(r.ok, JSON.stringify(r));
  const d = r.definition;
  assert.deepEqual(
    [d.namespace, d.name, d.uid, d.generation, d.enabled, d.oneOff],
    ['ns', 'n', 'u-1', 4, false, true],
  );
  assert.deepEqual(d.args, [1, null, { a: [true] }]);
  assert.deepEqual(d.kwargs, { x: null });
  assert.deepEqual(d.options, {
    queue: 'q2',
    exchange: '',
    routingKey: 'rk',
    priority: 9,
    expires: 1.5,
    headers: { tenant: 'acme' },
    timeLimit: 30,
    softTimeLimit: 20,
  });
  assert.equal(d.startingDeadlineSeconds, 60);
  assert.equal(d.description, 'd');
});

test('the wrong kind or apiVersion, and an unknown operator default zone, are named', () => {
  const r = validatePeriodicTask(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, spec: { task: 't', cron: '* * * * *' } },
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.errors.map((e) => e.field),
    ['apiVersion', 'kind'],
  );
  const zone = validatePeriodicTask(manifest({ task: 't', cron: '* * * * *' }), {
    defaultTimeZone: 'Nowhere/Land',
  });
  assert.ok(!zone.ok);
  assert.equal(zone.errors[0]!.field, 'spec.timeZone');
  assert.match(zone.errors[0]!.message, /Nowhere\/Land/);
  assert.ok(!validatePeriodicTask('text', { defaultTimeZone: 'UTC' }).ok);
});

for (const c of INVALID_CASES) {
  test(`invalid: ${c.name} is rejected naming ${c.field}`, () => {
    const r = validatePeriodicTask(invalidManifest(c), { defaultTimeZone: 'UTC' });
    assert.ok(!r.ok, 'accepted');
    assert.ok(
      r.errors.some((e) => e.field === c.field),
      `fields named: ${r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  });
}

test('concurrencyPolicy Forbid and Replace need the result backend; Allow is the default', () => {
  const task = (policy?: string) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      task: 't',
      interval: { every: 1, period: 'seconds' },
      ...(policy ? { concurrencyPolicy: policy } : {}),
    },
  });
  const allow = validatePeriodicTask(task(), { defaultTimeZone: 'UTC', resultBackend: false });
  assert.ok(allow.ok && allow.definition.concurrencyPolicy === undefined);
  const without = validatePeriodicTask(task('Forbid'), { defaultTimeZone: 'UTC', resultBackend: false });
  assert.deepEqual(without.ok ? [] : without.errors.map((e) => e.field), ['spec.concurrencyPolicy']);
  assert.match(without.ok ? '' : without.errors[0]!.message, /--result-backend/);
  const withBackend = validatePeriodicTask(task('Replace'), { defaultTimeZone: 'UTC', resultBackend: true });
  assert.ok(withBackend.ok && withBackend.definition.concurrencyPolicy === 'Replace');
  const bad = validatePeriodicTask(task('Sometimes'), { defaultTimeZone: 'UTC' });
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), ['spec.concurrencyPolicy']);
});

test('times of the years 1-9999 in UTC are accepted as those instants, the first century included', () => {
  const year = (y: number, ...rest: number[]): number =>
    new Date(0).setUTCFullYear(y, rest[0] ?? 0, rest[1] ?? 1);
  const clocked = validatePeriodicTask(manifest({ task: 't', clocked: '0050-03-01T00:00:00Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(clocked.ok);
  assert.deepEqual(clocked.definition.schedule, { kind: 'clocked', at: year(50, 2, 1) });
  const edges = validatePeriodicTask(
    manifest(
      {
        task: 't',
        interval: { every: 1, period: 'seconds' },
        startTime: '0001-01-01T00:00:00Z',
        pause: { reason: 'x', until: '9999-12-31T23:59:59.999999999Z' },
      },
      {
        name: 'demo',
        annotations: {
          'celerybeat.io/last-run-at': '0001-01-01T00:00:00Z',
          'celerybeat.io/total-run-count': '7',
        },
      },
    ),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(edges.ok, JSON.stringify(edges));
  assert.equal(edges.definition.startTime, year(1));
  assert.equal(edges.definition.pause?.until, year(10000) - 1);
  assert.deepEqual(edges.definition.carriedOver, { lastRunAt: year(1), totalRunCount: 7 });
  const before = validatePeriodicTask(
    manifest(
      { task: 't', interval: { every: 1, period: 'seconds' } },
      {
        name: 'demo',
        annotations: {
          'celerybeat.io/last-run-at': '0001-01-01T00:30:00+01:00',
          'celerybeat.io/total-run-count': '7',
        },
      },
    ),
    { defaultTimeZone: 'UTC' },
  );
  assert.deepEqual(before.ok ? [] : before.errors, [
    {
      field: 'metadata.annotations["celerybeat.io/last-run-at"]',
      message:
        'Invalid value: "0001-01-01T00:30:00+01:00": outside the years 0001-9999 (in UTC) that a Celery datetime holds',
    },
  ]);
  // A clocked slot's run state starts one millisecond before it: at the very first instant that is year 0.
  const first = validatePeriodicTask(manifest({ task: 't', clocked: '0001-01-01T00:00:00Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.deepEqual(first.ok ? [] : first.errors, [
    {
      field: 'spec.clocked',
      message:
        'Invalid value: "0001-01-01T00:00:00Z": the first instant a Celery datetime holds cannot be a slot (the run state keeps the instant before it): use a later time',
    },
  ]);
  const next = validatePeriodicTask(manifest({ task: 't', clocked: '0001-01-01T00:00:00.001Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(next.ok, JSON.stringify(next));
});

test('args, kwargs or headers nested 100,000 levels deep are refused naming the field, without a throw', () => {
  const depth = 100_000;
  const deepList = (): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  const deepObject = (): unknown => JSON.parse(`${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`);
  const every = { interval: { every: 1, period: 'seconds' } };
  const cases: [Record<string, unknown>, string, string][] = [
    [{ args: [1, deepList()] }, 'spec.args', 'args'],
    [{ kwargs: { a: deepObject() } }, 'spec.kwargs', 'kwargs'],
    [{ options: { headers: { trace: deepList() } } }, 'spec.options.headers', 'header trace'],
  ];
  for (const [fields, field, named] of cases) {
    const r = validatePeriodicTask(manifest({ task: 't', ...every, ...fields }), { defaultTimeZone: 'UTC' });
    assert.deepEqual(r.ok ? [] : r.errors, [
      { field, message: `Invalid value: ${named} is nested deeper than 100 levels (or is circular)` },
    ]);
  }
});

test('pauseAfterFailures: in effect with the result backend, inert without it (the task still runs); resumed-at is an RFC 3339 time', () => {
  const task = (annotations?: Record<string, string>) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { task: 't', interval: { every: 1, period: 'minutes' }, pauseAfterFailures: 3 },
  });
  const withBackend = validatePeriodicTask(task(), { defaultTimeZone: 'UTC', resultBackend: true });
  assert.ok(withBackend.ok);
  assert.equal(withBackend.definition.pauseAfterFailures, 3);
  assert.equal(withBackend.definition.inertPauseAfterFailures, undefined);
  const without = validatePeriodicTask(task(), { defaultTimeZone: 'UTC', resultBackend: false });
  assert.ok(without.ok, 'valid without the result backend');
  assert.equal(without.definition.pauseAfterFailures, undefined, 'no effect');
  assert.equal(without.definition.inertPauseAfterFailures, 3, 'kept to be reported');
  const resumed = validatePeriodicTask(task({ 'celerybeat.io/resumed-at': '2026-12-02T06:00:00.500Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(resumed.ok);
  assert.equal(resumed.definition.resumedAt, Date.UTC(2026, 11, 2, 6, 0, 0, 500));
  const bad = validatePeriodicTask(task({ 'celerybeat.io/resumed-at': 'yesterday' }), {
    defaultTimeZone: 'UTC',
  });
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), [
    'metadata.annotations["celerybeat.io/resumed-at"]',
  ]);
  for (const n of [0, 10_001]) {
    const out = validatePeriodicTask(
      { ...task(), spec: { ...task().spec, pauseAfterFailures: n } },
      { defaultTimeZone: 'UTC' },
    );
    assert.deepEqual(out.ok ? [] : out.errors.map((e) => e.field), ['spec.pauseAfterFailures']);
  }
});

test('schedules become a set of normalised schedules; exclude keeps dates and fills omitted crontab fields', () => {
  const r = validatePeriodicTask(
    manifest({
      task: 't',
      schedules: [
        { interval: { every: 15, period: 'minutes' } },
        { crontab: { minute: '0', hour: '7' } },
        { cron: '30 18 * * fri' },
        { clocked: '2026-12-24T18:00:00Z' },
      ],
      exclude: [{ date: '2026-12-25' }, { monthOfYear: '12', dayOfMonth: '24-26' }],
    }),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(r.ok, JSON.stringify(r));
  const { schedule, exclude } = r.definition;
  assert.equal(schedule.kind, 'set');
  assert.deepEqual(schedule.kind === 'set' && schedule.schedules.map((s) => s.kind), [
    'interval',
    'crontab',
    'cron',
    'clocked',
  ]);
  assert.deepEqual(exclude, [
    { kind: 'date', date: '2026-12-25' },
    { kind: 'calendar', minute: '*', hour: '*', dayOfWeek: '*', dayOfMonth: '24-26', monthOfYear: '12' },
  ]);
});
