// Hand-written celerybeat-redis keys read as PeriodicTasks: celerybeat-redis's README shape, the shapes its 0.1.x
// writer produced (captured vectors), the run-state forms users write, and problems named by key member.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { definitionText } from '../../../src/redis-schedules/definition-text.ts';
import { intervalOf } from '../../../src/redis-schedules/interval-units.ts';
import { readScheduleDocument } from '../../../src/redis-schedules/schedule-document.ts';
import { topLevelMembers } from '../../../src/store/json-members.ts';
import { encodeTaskValue } from '../../../src/store/task-record.ts';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';
import { runState } from '../../support/fakes/definitions.ts';

const VECTORS = new URL('../../fixtures/vectors/celerybeatredis/', import.meta.url);
const vector = (file: string) =>
  JSON.parse(readFileSync(new URL(file, VECTORS), 'utf8')) as Record<string, unknown>;

function read(value: unknown, name = 'k') {
  return readScheduleDocument(name, typeof value === 'string' ? value : JSON.stringify(value));
}

/** Each value is refused, naming the member of the key and saying what is wrong. */
function assertRefused(cases: ReadonlyArray<[unknown, string, RegExp]>): void {
  for (const [value, field, message] of cases) {
    const r = read(value);
    assert.equal(r.ok, false, `${JSON.stringify(value)} must be refused`);
    if (r.ok) continue;
    assert.equal(r.field, field, `field for ${JSON.stringify(value)}: ${r.message}`);
    assert.match(r.message, message);
  }
}

test('the README shape: top-level interval, args, kwargs and a __type__ last_run_at', () => {
  const r = read(vector('readme_shape__interval.json').value, 'doc-interval');
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.document.task.spec.interval, { every: 5, period: 'seconds' });
  assert.deepEqual(r.document.task.spec.args, [2, 3]);
  assert.deepEqual(r.document.task.spec.kwargs, { x: 1 });
  assert.equal(r.document.task.metadata.namespace, '');
  assert.equal(r.document.task.metadata.name, 'doc-interval');
  assert.equal(r.document.lastRunAt, Date.UTC(2014, 7, 30, 8, 10, 6) + 0.667);
  assert.equal(r.document.totalRunCount, 5);
});

test('what the 0.1.3 writer stores: top-level queue; what the 0.1.x head writer stores: schedule and options', () => {
  const old = read(vector('v0.1.3_2560371_writer__every-30s.json').value);
  assert.ok(old.ok, JSON.stringify(old));
  assert.deepEqual(old.document.task.spec.interval, { every: 30, period: 'seconds' });
  assert.deepEqual(old.document.task.spec.options, { queue: 'celery' });
  const every = read(vector('head_writer__every-30s.json').value);
  assert.ok(every.ok, JSON.stringify(every));
  assert.deepEqual(every.document.task.spec.interval, { every: 30, period: 'seconds' });
  assert.deepEqual(every.document.task.spec.options, { queue: 'q2' });
  const monday = read(vector('head_writer__monday-730.json').value);
  assert.ok(monday.ok, JSON.stringify(monday));
  assert.deepEqual(monday.document.task.spec.crontab, {
    minute: '30',
    hour: '7',
    dayOfWeek: '1',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
});

test('last_run_at as an ISO string (with or without offset) or absent; naive times are UTC', () => {
  const base = { name: 'n', task: 't', interval: { every: 1, period: 'minutes' } };
  const iso = read({ ...base, last_run_at: '2026-11-24T07:00:30.250000' });
  assert.ok(iso.ok);
  assert.equal(iso.document.lastRunAt, Date.UTC(2026, 10, 24, 7, 0, 30, 250));
  const offset = read({ ...base, last_run_at: '2026-11-24 08:00:30+01:00' });
  assert.ok(offset.ok);
  assert.equal(offset.document.lastRunAt, Date.UTC(2026, 10, 24, 7, 0, 30));
  const none = read(base);
  assert.ok(none.ok);
  assert.equal(none.document.lastRunAt, null);
  assert.equal(none.document.totalRunCount, 0);
});

test('timedelta keywords and fractions become a whole number of the largest fitting unit', () => {
  assert.deepEqual(intervalOf({ every: 2, period: 'weeks' }, 'interval'), { every: 14, period: 'days' });
  assert.deepEqual(intervalOf({ every: 0.5, period: 'seconds' }, 'interval'), {
    every: 500_000,
    period: 'microseconds',
  });
  assert.deepEqual(intervalOf({ every: 90, period: 'minutes' }, 'interval'), {
    every: 90,
    period: 'minutes',
  });
  assert.deepEqual(intervalOf({ every: 120, period: 'minutes' }, 'interval'), { every: 2, period: 'hours' });
  assert.deepEqual(intervalOf({ every: 1500, period: 'milliseconds' }, 'interval'), {
    every: 1_500_000,
    period: 'microseconds',
  });
});

test('each problem names the member of the key it is about', () => {
  const base = { name: 'n', task: 't', interval: { every: 30, period: 'seconds' } };
  const cases: Array<[unknown, string, RegExp]> = [
    ['{not json', '', /not valid JSON/],
    [[1, 2], '', /not a JSON object/],
    [{ ...base, name: undefined }, 'name', /Required/],
    [{ ...base, task: '' }, 'task', /Required/],
    [
      { name: 'n', task: 't' },
      'interval',
      /one of "interval", "crontab", "cron", "clocked", "solar" or "schedules"/,
    ],
    [{ name: 'n', task: 't', solar: { event: 'sunset', lat: 91, lon: 0 } }, 'solar.lat', /90/],
    [{ name: 'n', task: 't', solar: { event: 'noon', lat: 0, lon: 0 } }, 'solar.event', /solar_noon/],
    [{ name: 'n', task: 't', solar: 'sunset' }, 'solar', /object/],
    [{ ...base, crontab: { minute: '1' } }, 'interval, crontab', /exactly one/],
    [{ ...base, interval: { every: 30, period: 'fortnights' } }, 'interval.period', /fortnights/],
    [{ ...base, interval: { every: -1, period: 'seconds' } }, 'interval.every', /positive/],
    [{ name: 'n', task: 't', crontab: { minute: '61' } }, 'crontab.minute', /61/],
    [{ name: 'n', task: 't', crontab: { day_of_week: 'someday' } }, 'crontab.day_of_week', /someday/],
    [{ ...base, args: { a: 1 } }, 'args', /array/],
    [{ ...base, kwargs: [1] }, 'kwargs', /object/],
    [{ ...base, timezone: 'Mars/Olympus' }, 'timezone', /IANA/],
    [{ ...base, priority: 300 }, 'priority', /255/],
    [{ ...base, options: { priority: 300 } }, 'options.priority', /255/],
    [{ ...base, last_run_at: 'yesterday' }, 'last_run_at', /ISO-8601/],
    [
      { ...base, last_run_at: { __type__: 'datetime', year: 2026, month: 13, day: 1 } },
      'last_run_at',
      /month/,
    ],
    [{ ...base, total_run_count: -2 }, 'total_run_count', /non-negative/],
  ];
  assertRefused(cases);
});

test('the operator fields of a hand-written key: timezone, clocked, solar, one_off, start_time, end_time, max_runs, catch_up', () => {
  const r = read({
    name: 'n',
    task: 't',
    crontab: { minute: '30', hour: '7' },
    timezone: 'Europe/Berlin',
    one_off: true,
    start_time: '2027-01-01T00:00:00Z',
    end_time: {
      __type__: 'datetime',
      year: 2027,
      month: 6,
      day: 30,
      hour: 0,
      minute: 0,
      second: 0,
      microsecond: 0,
    },
    max_runs: 40,
    catch_up: 'None',
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.document.task.spec.endTime, '2027-06-30T00:00:00.000Z');
  assert.equal(r.document.task.spec.maxRuns, 40);
  assert.equal(r.document.task.spec.catchUp, 'None');
  const bad = read({ name: 'n', task: 't', interval: { every: 5, period: 'seconds' }, max_runs: 0 });
  assert.equal(bad.ok, false);
  assert.equal(bad.ok ? '' : bad.field, 'max_runs');
  assert.equal(r.document.task.spec.timeZone, 'Europe/Berlin');
  assert.equal(r.document.task.spec.oneOff, true);
  assert.equal(r.document.task.spec.startTime, '2027-01-01T00:00:00.000Z');
  const clocked = read({ name: 'n', task: 't', clocked: '2027-12-24T18:00:00Z' });
  assert.ok(clocked.ok, JSON.stringify(clocked));
  assert.equal(clocked.document.task.spec.clocked, '2027-12-24T18:00:00.000Z');
  // A solar schedule with Celery's own arguments, `solar(event, lat, lon)`.
  const solar = read({ name: 'n', task: 't', solar: { event: 'dusk_civil', lat: -33.87, lon: 151.21 } });
  assert.ok(solar.ok, JSON.stringify(solar));
  assert.deepEqual(solar.document.task.spec.solar, {
    event: 'dusk_civil',
    latitude: -33.87,
    longitude: 151.21,
  });
});

test('top-level members are spans of the text as written; the definition text ignores run state and owned keys', () => {
  const raw = '{"name": "a, b", "kwargs": {"x": [1, {"y": "}"}]}, "n":1.50 ,"last_run_at": null}';
  assert.deepEqual(
    topLevelMembers(raw)?.map((m) => m.key),
    ['name', 'kwargs', 'n', 'last_run_at'],
  );
  assert.equal(topLevelMembers(raw)?.[2]?.text, '"n":1.50');
  assert.equal(definitionText(raw), '"name": "a, b","kwargs": {"x": [1, {"y": "}"}]},"n":1.50');
  assert.equal(definitionText('{"owner": {"uid": "u"}, "task": "t"}'), null);
  assert.equal(definitionText('not json'), null);
  assert.equal(
    definitionText('{"task": "t", "total_run_count": 4}'),
    definitionText('{"task": "t", "total_run_count": 5}'),
  );
});

test('a key as the operator writes it, without its owner, reads back as the same schedule: cron, clocked, solar, several schedules, exclusions', () => {
  const specs: Record<string, unknown>[] = [
    { cron: '@every 90s' },
    { cron: '0 9 * * 1-5' },
    { clocked: '2027-12-24T18:00:00Z' },
    { solar: { event: 'sunset', latitude: 52.52, longitude: 13.4 } },
    {
      schedules: [
        { interval: { every: 15, period: 'minutes' } },
        { cron: '0 9 * * 1-5' },
        { crontab: { minute: '30', hour: '7' } },
        { clocked: '2027-01-01T00:00:00Z' },
      ],
      exclude: [{ date: '2026-12-25' }, { dayOfMonth: '24-26', monthOfYear: '12' }],
    },
    { interval: { every: 30, period: 'seconds' }, exclude: [{ hour: '2', dayOfWeek: 'sun' }] },
    {
      schedules: [
        { solar: { event: 'dawn_civil', latitude: -33.87, longitude: 151.21 } },
        { interval: { every: 1, period: 'hours' } },
      ],
    },
  ];
  for (const schedule of specs) {
    const resource = {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { namespace: 'ns', name: 'n', uid: 'u', generation: 1 },
      spec: { task: 'tasks.t', timeZone: 'Europe/Berlin', ...schedule },
    };
    const valid = validatePeriodicTask(resource, { defaultTimeZone: 'UTC' });
    assert.ok(valid.ok, JSON.stringify(valid));
    const written = JSON.parse(encodeTaskValue(valid.definition, runState(0), 'op')) as Record<
      string,
      unknown
    >;
    delete written.owner;
    const r = read(written);
    assert.ok(r.ok, `${JSON.stringify(schedule)}: ${JSON.stringify(r)}`);
    const back = validatePeriodicTask(r.document.task, { defaultTimeZone: 'UTC', handWritten: true });
    assert.ok(back.ok, JSON.stringify(back));
    assert.deepEqual(back.definition.schedule, valid.definition.schedule, JSON.stringify(schedule));
    assert.deepEqual(back.definition.exclude, valid.definition.exclude, JSON.stringify(schedule));
  }
});

test('several schedules and exclusions in a hand-written key: each problem names its member', () => {
  const base = { name: 'n', task: 't' };
  const cases: Array<[unknown, string, RegExp]> = [
    [{ ...base, schedules: [] }, 'schedules', /non-empty/],
    [{ ...base, schedules: [1] }, 'schedules[0]', /object/],
    [
      { ...base, schedules: [{ interval: { every: 0, period: 'seconds' } }] },
      'schedules[0].interval.every',
      /positive/,
    ],
    [{ ...base, schedules: [{ cron: '0 9 * *' }, { cron: 61 }] }, 'schedules[1].cron', /string/],
    [
      { ...base, schedules: [{ crontab: { minute: '1' }, interval: { every: 5, period: 'seconds' } }] },
      'schedules[0].interval, schedules[0].crontab',
      /exactly one/,
    ],
    [{ ...base, schedules: [{ crontab: { hour: '25' } }] }, 'schedules[0].crontab.hour', /25/],
    [{ ...base, cron: '* * *' }, 'cron', /five fields/],
    [{ ...base, cron: '@daily', exclude: {} }, 'exclude', /list/],
    [{ ...base, cron: '@daily', exclude: [{ month: '12' }] }, 'exclude[0].month', /unknown member/],
    [{ ...base, cron: '@daily', exclude: [{ date: '2026-13-01' }] }, 'exclude[0].date', /date/],
  ];
  assertRefused(cases);
});
