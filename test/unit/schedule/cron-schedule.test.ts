// `cron` schedules: a CronJob's day rule and macros, the project's DST rule (not cron-parser's own, which skips a
// time removed by Lord Howe's 30-minute gap, and whose prev() loses a spring-forward day), long windows counted
// without walking, @every, and one compiled schedule per (string, zone).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { cronDefinition } from '../../../src/schedule/cron-job-parse.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';
import { describeSchedule } from '../../../src/schedule/describe.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The first `n` slots after `from`, walked with next(). */
function runs(expression: string, zone: string, from: string, n: number): string[] {
  const s = compileSchedule(cronDefinition(expression), zone);
  const out: string[] = [];
  for (let t = s.next(Date.parse(from)); t !== null && out.length < n; t = s.next(t)) out.push(iso(t));
  return out;
}

const crontabRuns = (fields: Record<string, string>, zone: string, from: string, n: number): string[] => {
  const s = compileSchedule(
    { kind: 'crontab', minute: '*', hour: '*', dayOfMonth: '*', monthOfYear: '*', dayOfWeek: '*', ...fields },
    zone,
  );
  const out: string[] = [];
  for (let t = s.next(Date.parse(from)); t !== null && out.length < n; t = s.next(t)) out.push(iso(t));
  return out;
};

test('both day fields restricted: a day matches when either does (a crontab with the same fields needs both)', () => {
  // January 2026: the 1st is a Thursday; Mondays are the 5th, 12th, 19th.
  assert.deepEqual(runs('0 0 1-7 * 1', 'UTC', '2026-01-01T00:00:00Z', 8), [
    '2026-01-02T00:00:00.000Z',
    '2026-01-03T00:00:00.000Z',
    '2026-01-04T00:00:00.000Z',
    '2026-01-05T00:00:00.000Z',
    '2026-01-06T00:00:00.000Z',
    '2026-01-07T00:00:00.000Z',
    '2026-01-12T00:00:00.000Z',
    '2026-01-19T00:00:00.000Z',
  ]);
  assert.deepEqual(
    crontabRuns(
      { minute: '0', hour: '0', dayOfMonth: '1-7', dayOfWeek: '1' },
      'UTC',
      '2026-01-01T00:00:00Z',
      2,
    ),
    ['2026-01-05T00:00:00.000Z', '2026-02-02T00:00:00.000Z'],
  );
  // A full range without a star restricts (every day then); a star part, `*/1` or `?` does not (Mondays only).
  assert.equal(runs('0 0 1-31 * 1', 'UTC', '2026-01-01T00:00:00Z', 3).length, 3);
  assert.deepEqual(runs('0 0 1-31 * 1', 'UTC', '2026-01-01T00:00:00Z', 2), [
    '2026-01-02T00:00:00.000Z',
    '2026-01-03T00:00:00.000Z',
  ]);
  for (const dom of ['*', '*/1', '?', '1,*']) {
    assert.deepEqual(
      runs(`0 0 ${dom} * 1`, 'UTC', '2026-01-01T00:00:00Z', 2),
      ['2026-01-05T00:00:00.000Z', '2026-01-12T00:00:00.000Z'],
      dom,
    );
  }
  // A month restriction holds under either rule: February only, its 1st or its Mondays.
  assert.deepEqual(runs('0 0 1 feb MON', 'UTC', '2026-01-01T00:00:00Z', 3), [
    '2026-02-01T00:00:00.000Z',
    '2026-02-02T00:00:00.000Z',
    '2026-02-09T00:00:00.000Z',
  ]);
});

test('macros are the five fields a CronJob reads them as', () => {
  const from = '2026-01-01T10:10:00Z';
  assert.deepEqual(runs('@yearly', 'UTC', from, 1), ['2027-01-01T00:00:00.000Z']);
  assert.deepEqual(runs('@annually', 'UTC', from, 1), ['2027-01-01T00:00:00.000Z']);
  assert.deepEqual(runs('@monthly', 'UTC', from, 1), ['2026-02-01T00:00:00.000Z']);
  assert.deepEqual(runs('@weekly', 'UTC', from, 1), ['2026-01-04T00:00:00.000Z']); // Sunday
  assert.deepEqual(runs('@daily', 'Europe/Berlin', from, 1), ['2026-01-01T23:00:00.000Z']);
  assert.deepEqual(runs('@midnight', 'UTC', from, 1), ['2026-01-02T00:00:00.000Z']);
  assert.deepEqual(runs('@hourly', 'Asia/Kolkata', from, 2), [
    '2026-01-01T10:30:00.000Z',
    '2026-01-01T11:30:00.000Z',
  ]);
  assert.equal(describeSchedule(cronDefinition('@daily'), 'UTC'), 'cron @daily UTC');
});

test('a wall time in a spring-forward gap runs once, shifted by the gap (30 minutes on Lord Howe)', () => {
  assert.deepEqual(runs('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 2), [
    '2026-03-29T01:30:00.000Z', // 03:30 CEST
    '2026-03-30T00:30:00.000Z',
  ]);
  // Lord Howe skips 02:00-02:30 on 2026-10-04: 02:15 runs at 02:45 (+11:00); cron-parser's own reading skips it.
  assert.deepEqual(runs('15 2 * * *', 'Australia/Lord_Howe', '2026-10-03T00:00:00Z', 2), [
    '2026-10-03T15:45:00.000Z',
    '2026-10-04T15:15:00.000Z',
  ]);
  // Every hour: the shifted 02:00 is the real 03:00, one slot.
  assert.deepEqual(runs('0 * * * *', 'Europe/Berlin', '2026-03-29T00:30:00Z', 2), [
    '2026-03-29T01:00:00.000Z',
    '2026-03-29T02:00:00.000Z',
  ]);
});

test('the repeated autumn hour: every-hour strings keep their cadence, fixed times run once', () => {
  assert.deepEqual(runs('*/30 * * * *', 'America/New_York', '2026-11-01T04:45:00Z', 4), [
    '2026-11-01T05:00:00.000Z',
    '2026-11-01T05:30:00.000Z',
    '2026-11-01T06:00:00.000Z',
    '2026-11-01T06:30:00.000Z',
  ]);
  assert.deepEqual(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2), [
    '2026-11-01T05:30:00.000Z',
    '2026-11-02T06:30:00.000Z',
  ]);
  // First seen at 01:10 EDT, after 01:00's first pass: that fold's times run in the second pass.
  assert.deepEqual(runs('0,30 1 * * *', 'America/New_York', '2026-11-01T05:10:00Z', 3), [
    '2026-11-01T06:00:00.000Z',
    '2026-11-01T06:30:00.000Z',
    '2026-11-02T06:00:00.000Z',
  ]);
});

test('long windows are counted, the spring-forward day included', () => {
  const s = compileSchedule(cronDefinition('30 2 * * *'), 'Europe/Berlin');
  const year = s.latest(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z'));
  assert.deepEqual(year, { slot: Date.parse('2026-12-31T01:30:00Z'), count: 365 });
  const either = compileSchedule(cronDefinition('0 12 13 * fri'), 'UTC');
  // 2026: twelve 13ths and 52 Fridays, of which February, March and November 13th are both.
  const counted = either.latest(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z'));
  assert.equal(counted?.count, 12 + 52 - 3);
  const minutely = compileSchedule(cronDefinition('* * * * *'), 'Europe/Berlin');
  const plan = planSlots(minutely, Date.parse('2026-03-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z'));
  // Every real minute is a slot, the gap's shifted wall times included (each is the real minute after the gap).
  assert.equal(plan.missed, 31 * 1440 - 1);
});

test('@every: a constant delay in whole seconds from the cursor, at least a second', () => {
  const s = compileSchedule(cronDefinition('@every 1h30m'), 'UTC');
  const from = Date.parse('2026-01-01T10:00:00.750Z');
  assert.equal(iso(s.next(from)!), '2026-01-01T11:30:00.000Z');
  assert.deepEqual(s.latest(from, Date.parse('2026-01-02T10:00:00Z')), {
    slot: Date.parse('2026-01-02T10:00:00Z'),
    count: 16,
  });
  assert.equal(compileSchedule(cronDefinition('@every 1ms'), 'UTC').next(0), 1000);
  assert.equal(compileSchedule(cronDefinition('@every 2.9s'), 'UTC').next(0), 2000);
  const def = { schedule: cronDefinition('@every 10m'), startTime: Date.parse('2026-01-01T00:00:00Z') };
  // With startTime the slots are startTime + k·delay, as for an interval.
  const cursor = initialCursor(def as TaskDefinition, Date.parse('2026-01-01T00:25:00Z'));
  assert.equal(iso(cursor), '2026-01-01T00:20:00.000Z');
});

test('one compiled schedule per distinct string and zone', () => {
  const a = compileSchedule(cronDefinition('*/5 * * * *'), 'Europe/Berlin');
  assert.equal(compileSchedule(cronDefinition('*/5 * * * *'), 'Europe/Berlin'), a);
  assert.notEqual(compileSchedule(cronDefinition('*/5 * * * *'), 'UTC'), a);
  assert.notEqual(compileSchedule(cronDefinition('*/5 * * * 0-6'), 'Europe/Berlin'), a);
});
