import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import type { RunState } from '../../../src/contracts.ts';
import { cronDefinition } from '../../../src/schedule/cron-job-parse.ts';
import { equinoxCrontab } from '../../../src/schedule/solar-events.ts';
import { decodeDatetime, encodeDatetime } from '../../../src/store/datetime.ts';
import {
  decodeRunStateTail,
  decodeTaskValue,
  encodeRunStateTail,
  encodeTaskValue,
} from '../../../src/store/task-record.ts';

export const definition: TaskDefinition = {
  namespace: 'default',
  name: 'add-every-30-seconds',
  uid: '6f1c9a52-0000-4000-8000-000000000001',
  generation: 1,
  task: 'tasks.add',
  schedule: { kind: 'interval', every: 30, period: 'seconds' },
  timeZone: 'UTC',
  enabled: true,
  args: [],
  kwargs: { nested: { last_run_at: 1 }, note: ',"last_run_at":' },
  options: { queue: 'q2', priority: 5, expires: 60, headers: { tenant: 'acme' } },
  oneOff: false,
};

const state: RunState = {
  cursor: Date.UTC(2026, 10, 24, 10, 0, 0, 123) + 0.456,
  totalRunCount: 3,
  lastTaskId: 'b46739f1-0000-5000-8000-000000000000',
  lastTaskSlot: Date.UTC(2026, 10, 24, 10, 0, 0, 123),
  missedRunCount: 1,
  pausedRunCount: 0,
};

test('datetimes are UTC wall-clock fields with microseconds, and decode back', () => {
  const ms = Date.UTC(2026, 10, 24, 7, 0, 30, 123) + 0.456;
  assert.deepEqual(encodeDatetime(ms), {
    __type__: 'datetime',
    year: 2026,
    month: 11,
    day: 24,
    hour: 7,
    minute: 0,
    second: 30,
    microsecond: 123456,
  });
  assert.equal(decodeDatetime(encodeDatetime(ms)), ms);
  assert.throws(() => decodeDatetime({ __type__: 'datetime', year: 2026, month: 13, day: 1 }), /"month"/);
  assert.throws(() => decodeDatetime('2026-11-24'), /datetime/);
});

test('the value has the documented shape with the run state last', () => {
  const raw = encodeTaskValue(definition, state, 'ops/celerybeat-operator');
  const value = JSON.parse(raw);
  assert.deepEqual(Object.keys(value).slice(-5), [
    'last_run_at',
    'total_run_count',
    'last_task_id',
    'last_task_slot',
    'missed_run_count',
  ]);
  assert.equal(value.name, 'default/add-every-30-seconds');
  assert.deepEqual(value.interval, { every: 30, period: 'seconds' });
  assert.deepEqual(value.args, []);
  assert.equal(value.queue, 'q2');
  assert.equal(value.expires, 60);
  assert.deepEqual(value.options, { queue: 'q2', priority: 5, expires: 60, headers: { tenant: 'acme' } });
  assert.deepEqual(value.owner, {
    namespace: 'default',
    name: 'add-every-30-seconds',
    uid: definition.uid,
    operator: 'ops/celerybeat-operator',
  });
  assert.equal(value.total_run_count, 3);
  assert.deepEqual(decodeTaskValue(raw).runState, state);
});

test('paused_run_count is written only once it is not zero: a tail without it reads as 0 and re-encodes the same', () => {
  const before = encodeRunStateTail(state);
  assert.doesNotMatch(before, /paused_run_count/);
  assert.equal(encodeRunStateTail(decodeRunStateTail(before)), before);
  const paused = { ...state, pausedRunCount: 4 };
  const tail = encodeRunStateTail(paused);
  assert.ok(tail.endsWith(',"missed_run_count":1,"paused_run_count":4}'), tail);
  assert.deepEqual(decodeRunStateTail(tail), paused);
});

test('the run-state tail round-trips and the last marker is the real one', () => {
  const tail = encodeRunStateTail(state);
  assert.deepEqual(decodeRunStateTail(tail), state);
  const raw = encodeTaskValue(definition, state, 'ops/celerybeat-operator');
  assert.equal(raw.slice(raw.lastIndexOf(',"last_run_at":')), tail);
});

test('crontab fields are strings under the celerybeat-redis names', () => {
  const value = JSON.parse(
    encodeTaskValue(
      {
        ...definition,
        schedule: {
          kind: 'crontab',
          minute: '30',
          hour: '7',
          dayOfWeek: '1',
          dayOfMonth: '*',
          monthOfYear: '*',
        },
      },
      state,
      'ops/celerybeat-operator',
    ),
  );
  assert.deepEqual(value.crontab, {
    minute: '30',
    hour: '7',
    day_of_week: '1',
    day_of_month: '*',
    month_of_year: '*',
  });
});

test('a cron string is kept as written next to its documented reading: the crontab of its values, an @every in seconds', () => {
  const encode = (expression: string): Record<string, unknown> =>
    JSON.parse(
      encodeTaskValue(
        { ...definition, schedule: cronDefinition(expression) },
        state,
        'ops/celerybeat-operator',
      ),
    );
  const weekdays = encode('*/20 9-11 * JAN mon-fri');
  assert.equal(weekdays.cron, '*/20 9-11 * JAN mon-fri');
  assert.deepEqual(weekdays.crontab, {
    minute: '0,20,40',
    hour: '9,10,11',
    day_of_week: '1,2,3,4,5',
    day_of_month: '*',
    month_of_year: '1',
  });
  assert.equal(weekdays.interval, undefined);
  // Both day fields restricted: the crontab is Celery's reading (both must match); `cron` says either.
  const either = encode('0 0 1 * mon');
  assert.deepEqual(either.crontab, {
    minute: '0',
    hour: '0',
    day_of_week: '1',
    day_of_month: '1',
    month_of_year: '*',
  });
  const every = encode('@every 1h30m');
  assert.equal(every.cron, '@every 1h30m');
  assert.deepEqual(every.interval, { every: 5400, period: 'seconds' });
  assert.equal(every.crontab, undefined);
});

test("a solar task is written with Celery's solar arguments and, for readers of the documented kinds, a daily crontab", () => {
  const schedule = {
    kind: 'solar',
    event: 'sunset',
    latitude: 52.52,
    longitude: 13.405,
    documented: { crontab: equinoxCrontab('sunset', 52.52, 13.405) },
  } as const;
  const value = JSON.parse(encodeTaskValue({ ...definition, schedule }, state, 'ops/celerybeat-operator'));
  assert.deepEqual(value.solar, { event: 'sunset', lat: 52.52, lon: 13.405 });
  assert.deepEqual(value.crontab, {
    minute: '12',
    hour: '17',
    day_of_week: '*',
    day_of_month: '*',
    month_of_year: '*',
  });
  // Celery itself reads both: `solar(**value["solar"])` and `crontab(**value["crontab"])`.
  const python = spawnSync(
    process.env.CELERY_PYTHON ?? '/usr/bin/python3',
    [
      '-c',
      'import json, sys\nfrom celery.schedules import crontab, solar\nv = json.load(sys.stdin)\n' +
        's = solar(**v["solar"])\nc = crontab(**v["crontab"])\nprint(s.event, s.lat, s.lon, sorted(c.hour), sorted(c.minute))',
    ],
    { input: JSON.stringify(value), encoding: 'utf8' },
  );
  assert.equal(python.status, 0, python.stderr);
  assert.equal(python.stdout.trim(), 'sunset 52.52 13.405 [17] [12]');
});

test('endTime, maxRuns and catchUp are written under their own names, only when set', () => {
  const plain = JSON.parse(encodeTaskValue(definition, state, 'op'));
  assert.equal('end_time' in plain || 'max_runs' in plain || 'catch_up' in plain, false);
  const endTime = Date.UTC(2026, 11, 31, 23, 59, 59, 500);
  const limited = { ...definition, endTime, maxRuns: 10, catchUp: 'All' as const };
  const raw = encodeTaskValue(limited, state, 'op');
  const value = JSON.parse(raw);
  assert.equal(decodeDatetime(value.end_time), endTime);
  assert.equal(value.max_runs, 10);
  assert.equal(value.catch_up, 'All');
  assert.deepEqual(decodeTaskValue(raw).runState, state);
});

test('the failures in a row and the last resume are written after the other members, only when set, and read back', () => {
  const before = encodeRunStateTail(state);
  assert.doesNotMatch(before, /consecutive_failures|resumed_at/);
  const failing: RunState = {
    ...state,
    pausedRunCount: 2,
    failures: { count: 3, slot: Date.UTC(2026, 10, 24, 9, 59), taskId: 'a1', exception: 'RuntimeError' },
    resumedAt: Date.UTC(2026, 10, 24, 8),
  };
  const tail = encodeRunStateTail(failing);
  assert.ok(
    tail.endsWith(
      `,"paused_run_count":2,"consecutive_failures":{"count":3,"slot":${Date.UTC(2026, 10, 24, 9, 59)},"task_id":"a1","exception":"RuntimeError"},"resumed_at":${Date.UTC(2026, 10, 24, 8)}}`,
    ),
    tail,
  );
  assert.deepEqual(decodeRunStateTail(tail), failing);
  assert.equal(
    encodeRunStateTail(decodeRunStateTail(tail)),
    tail,
    'the same text again: the swap compares it',
  );
  const noException = { ...state, failures: { count: 1, slot: 5, taskId: 'b' } };
  assert.deepEqual(decodeRunStateTail(encodeRunStateTail(noException)), noException);
  assert.throws(
    () => decodeRunStateTail(before.replace(/}$/, ',"consecutive_failures":{"count":-1}}')),
    /"consecutive_failures" must be/,
  );
  const value = JSON.parse(encodeTaskValue({ ...definition, pauseAfterFailures: 3 }, failing, 'op'));
  assert.equal(value.pause_after_failures, 3, 'the limit is in the definition, under its own name');
  assert.equal('pause_after_failures' in JSON.parse(encodeTaskValue(definition, state, 'op')), false);
});

test('several schedules: the first one in its documented shape, every one exactly under "schedules" (a cron with its reading); exclusions under "exclude"', () => {
  const at = Date.UTC(2026, 11, 24, 18);
  const def: TaskDefinition = {
    ...definition,
    schedule: {
      kind: 'set',
      schedules: [
        cronDefinition('0 9 * * 1-5'),
        { kind: 'interval', every: 15, period: 'minutes' },
        { kind: 'clocked', at },
      ],
    },
    exclude: [
      { kind: 'date', date: '2026-12-25' },
      { kind: 'calendar', minute: '*', hour: '*', dayOfWeek: '*', dayOfMonth: '24-26', monthOfYear: '12' },
    ],
  };
  const raw = encodeTaskValue(def, state, 'op');
  const value = JSON.parse(raw);
  assert.deepEqual(value.crontab, {
    minute: '0',
    hour: '9',
    day_of_week: '1,2,3,4,5',
    day_of_month: '*',
    month_of_year: '*',
  });
  assert.equal('interval' in value || 'cron' in value, false);
  assert.deepEqual(value.schedules, [
    {
      cron: '0 9 * * 1-5',
      crontab: { minute: '0', hour: '9', day_of_week: '1,2,3,4,5', day_of_month: '*', month_of_year: '*' },
    },
    { interval: { every: 15, period: 'minutes' } },
    { clocked: encodeDatetime(at) },
  ]);
  assert.deepEqual(value.exclude, [
    { date: '2026-12-25' },
    { minute: '*', hour: '*', day_of_week: '*', day_of_month: '24-26', month_of_year: '12' },
  ]);
  assert.deepEqual(Object.keys(value.schedules[0]), ['cron', 'crontab'], 'the exact kind first');
  assert.deepEqual(decodeTaskValue(raw).runState, state);
  const intervalFirst = JSON.parse(
    encodeTaskValue(
      { ...def, schedule: { kind: 'set', schedules: [{ kind: 'interval', every: 2, period: 'hours' }] } },
      state,
      'op',
    ),
  );
  assert.deepEqual(intervalFirst.interval, { every: 2, period: 'hours' });
});

test('unreadable values are reported with the reason', () => {
  assert.throws(() => decodeTaskValue('{not json'), /not valid JSON/);
  assert.throws(() => decodeTaskValue('[1]'), /not a JSON object/);
  assert.deepEqual(decodeTaskValue('{"task":"x"}'), { owner: null, runState: null });
});

test('the owner is read with its operator, without one (an earlier version), and not at all with a bad one', () => {
  const owner = (marker: Record<string, unknown>) =>
    decodeTaskValue(JSON.stringify({ task: 't', owner: marker })).owner;
  const base = { namespace: 'a', name: 'b', uid: 'u' };
  assert.deepEqual(owner({ ...base, operator: 'ops/x' }), { ...base, operator: 'ops/x' });
  assert.deepEqual(owner(base), base);
  assert.equal(owner({ ...base, operator: null }), null);
});
