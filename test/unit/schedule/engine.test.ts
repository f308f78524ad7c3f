// Interval grid, clocked, the initial cursor, the missed-slot rule, long windows, and an independent
// cross-check of plain crontabs against cron-parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import type { ScheduleDefinition, TaskDefinition } from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';
import { describeSchedule } from '../../../src/schedule/describe.ts';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const S = 1000;

function task(schedule: ScheduleDefinition, extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    namespace: 'default',
    name: 't',
    uid: '',
    generation: 1,
    task: 'tasks.add',
    schedule,
    timeZone: 'UTC',
    enabled: true,
    args: [],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    oneOff: false,
    ...extra,
  };
}

const cron = (expr: string): ScheduleDefinition => {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expr.split(' ') as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { kind: 'crontab', minute, hour, dayOfMonth, monthOfYear, dayOfWeek };
};

test('interval: every period, on the grid through the cursor', () => {
  const cases: [ScheduleDefinition & { kind: 'interval' }, number][] = [
    [{ kind: 'interval', every: 2, period: 'days' }, 2 * 86_400 * S],
    [{ kind: 'interval', every: 3, period: 'hours' }, 3 * 3_600 * S],
    [{ kind: 'interval', every: 5, period: 'minutes' }, 5 * 60 * S],
    [{ kind: 'interval', every: 30, period: 'seconds' }, 30 * S],
    [{ kind: 'interval', every: 1500, period: 'microseconds' }, 1.5],
  ];
  for (const [def, ms] of cases) {
    const s = compileSchedule(def, 'UTC');
    assert.equal(s.next(T0), T0 + ms, def.period);
    assert.deepEqual(s.latest(T0, T0 + 10 * ms + ms / 2), { slot: T0 + 10 * ms, count: 10 }, def.period);
    assert.equal(s.latest(T0, T0 + ms - 0.001), null);
  }
});

test('interval: microsecond grids add up exactly over long windows', () => {
  const s = compileSchedule({ kind: 'interval', every: 1001, period: 'microseconds' }, 'UTC');
  const window = 86_400 * S * 365; // a year of slots, counted, not walked
  const latest = s.latest(T0, T0 + window)!;
  assert.equal(latest.count, Math.floor((window * 1000) / 1001));
  assert.equal(Math.round(latest.slot * 1000), T0 * 1000 + latest.count * 1001);
  let t = T0;
  for (let i = 0; i < 1000; i++) t = s.next(t)!;
  assert.equal(Math.round(t * 1000), T0 * 1000 + 1000 * 1001);
});

test('interval: a whole-millisecond grid stays on whole milliseconds past the year 2255 (2^53 µs)', () => {
  // fast-check seed 943895967: 818,176 hours from the year 2200; in microseconds the 22nd slot was 0.02 ms early.
  const s = compileSchedule({ kind: 'interval', every: 818_176, period: 'hours' }, 'UTC');
  const from = 7_258_059_346_797;
  const every = 818_176 * 3_600_000;
  let t = from;
  for (let i = 0; i < 22; i++) t = s.next(t)!;
  assert.equal(t, from + 22 * every);
  assert.deepEqual(s.latest(from, t), { slot: t, count: 22 });
  assert.deepEqual(s.latest(from, t - 0.02), { slot: from + 21 * every, count: 21 });
});

test('clocked: one slot', () => {
  const s = compileSchedule({ kind: 'clocked', at: T0 }, 'UTC');
  assert.equal(s.next(T0 - 1), T0);
  assert.equal(s.next(T0), null);
  assert.deepEqual(s.latest(T0 - 5 * S, T0 + 5 * S), { slot: T0, count: 1 });
  assert.equal(s.latest(T0, T0 + 5 * S), null);
});

test('initial cursor: interval from first seen, or on the startTime grid', () => {
  const every = { kind: 'interval', every: 60, period: 'seconds' } as const;
  assert.equal(initialCursor(task(every), T0), T0);
  // startTime ahead: the first run is startTime + every.
  assert.equal(initialCursor(task(every, { startTime: T0 + 3600 * S }), T0), T0 + 3600 * S);
  // startTime behind: the last grid point at or before first seen, so the next run is on the grid.
  const cursor = initialCursor(task(every, { startTime: T0 - 90 * S }), T0);
  assert.equal(cursor, T0 - 30 * S);
  assert.equal(compileSchedule(every, 'UTC').next(cursor), T0 + 30 * S);
});

test('initial cursor: crontab never before startTime; a slot exactly at startTime runs', () => {
  const hourly = cron('0 * * * *');
  const start = T0 + 5 * 3600 * S; // a whole hour
  const c = initialCursor(task(hourly, { startTime: start }), T0);
  assert.equal(compileSchedule(hourly, 'UTC').next(c), start);
  assert.equal(initialCursor(task(hourly), T0 + 17 * S), T0 + 17 * S);
});

test('initial cursor: a clocked time already past still runs once; never before startTime', () => {
  const past = { kind: 'clocked', at: T0 - 60 * S } as const;
  const plan = planSlots(compileSchedule(past, 'UTC'), initialCursor(task(past), T0), T0);
  assert.equal(plan.run, T0 - 60 * S);
  const late = initialCursor(task(past, { startTime: T0 }), T0);
  assert.equal(planSlots(compileSchedule(past, 'UTC'), late, T0 + 1).run, null);
});

test('missed slots: the latest runs, the others are missed; the grid is kept', () => {
  const s = compileSchedule({ kind: 'interval', every: 10, period: 'seconds' }, 'UTC');
  assert.deepEqual(planSlots(s, T0, T0 + 5 * S), { run: null, missed: 0, newCursor: T0, next: T0 + 10 * S });
  assert.deepEqual(planSlots(s, T0, T0 + 10 * S), {
    run: T0 + 10 * S,
    missed: 0,
    newCursor: T0 + 10 * S,
    next: T0 + 20 * S,
  });
  // Down for 65 s: six slots; the one at +60 runs, five are missed, the next is +70 (not now + 10).
  assert.deepEqual(planSlots(s, T0, T0 + 65 * S), {
    run: T0 + 60 * S,
    missed: 5,
    newCursor: T0 + 60 * S,
    next: T0 + 70 * S,
  });
});

test('missed slots: startingDeadlineSeconds skips a latest slot that is too old', () => {
  const s = compileSchedule(cron('0 * * * *'), 'UTC');
  const now = T0 + 3 * 3600 * S + 301 * S; // three hourly slots, the last 301 s ago
  assert.deepEqual(planSlots(s, T0, now, 300), {
    run: null,
    missed: 3,
    newCursor: T0 + 3 * 3600 * S,
    next: T0 + 4 * 3600 * S,
  });
  assert.equal(
    planSlots(s, T0, now - 1 * S, 300).run,
    T0 + 3 * 3600 * S,
    'exactly at the deadline still runs',
  );
  assert.equal(planSlots(s, T0, now - 1 * S, 300).missed, 2);
});

test('long windows are counted, not walked: ten years of a minutely crontab in Berlin', () => {
  const s = compileSchedule(cron('* * * * *'), 'Europe/Berlin');
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2036, 0, 1);
  const latest = s.latest(from, to)!;
  // Every real minute is a slot: the hour field is every hour, so both passes of each fall-back hour run.
  assert.deepEqual(latest, { slot: to, count: (to - from) / 60_000 });
  // With a fixed hour, the second pass of each of the ten repeated hours does not run.
  const fixed = compileSchedule(cron('* 2 * * *'), 'Europe/Berlin').latest(from, to)!;
  assert.equal(fixed.count, 3652 * 60);
});

test('Celery crontab meaning: names in any field, wrapping ranges, */2 on weekdays, AND of the day fields', () => {
  const first = (def: ScheduleDefinition, from: number, zone = 'UTC') =>
    new Date(compileSchedule(def, zone).next(from)!).toISOString();
  const tue = Date.UTC(2026, 10, 24); // Tuesday
  assert.equal(first(cron('mon 0 * * *'), tue), '2026-11-24T00:01:00.000Z'); // minute "mon" = 1
  assert.equal(first(cron('0 22-2 * * *'), Date.UTC(2026, 10, 24, 3)), '2026-11-24T22:00:00.000Z');
  assert.equal(first(cron('0 0 * * */2'), tue), '2026-11-26T00:00:00.000Z'); // Thursday (Sun/Tue/Thu/Sat)
  assert.equal(first(cron('0 0 13 * fri'), tue), '2027-08-13T00:00:00.000Z');
  assert.equal(first(cron('0 0 * * SUNDAY'), tue), '2026-11-29T00:00:00.000Z');
});

test('describeSchedule', () => {
  assert.equal(describeSchedule({ kind: 'interval', every: 1, period: 'hours' }, 'UTC'), 'every 1 hour');
  assert.equal(
    describeSchedule({ kind: 'interval', every: 30, period: 'seconds' }, 'UTC'),
    'every 30 seconds',
  );
  assert.equal(describeSchedule(cron('30 7 * * 1'), 'Europe/Berlin'), 'cron 30 7 * * 1 Europe/Berlin');
  assert.equal(describeSchedule({ kind: 'clocked', at: T0 }, 'UTC'), 'once at 2026-11-24T10:00:00.000Z');
});

// cron-parser ORs restricted day fields and repeats wall times across a fall-back, so the cross-check uses
// crontabs with at most one restricted day field, in zones without DST.
const PLAIN = [
  '*/15 9-17 * * 1-5',
  '0 0 1 * *',
  '5,35 */2 * * *',
  '0 12 * 1-3,10 *',
  '30 4 */5 * *',
  '0 0 * * 0',
  '59 23 31 * *',
];

for (const zone of ['UTC', 'Asia/Kolkata']) {
  test(`plain crontabs agree with cron-parser in ${zone}`, () => {
    for (const expr of PLAIN) {
      const ours = compileSchedule(cron(expr), zone);
      const theirs = CronExpressionParser.parse(expr, { currentDate: new Date(T0), tz: zone });
      let t = T0;
      for (let i = 0; i < 100; i++) {
        t = ours.next(t)!;
        assert.equal(new Date(t).toISOString(), theirs.next().toISOString(), `${expr} #${i}`);
      }
    }
  });
}
