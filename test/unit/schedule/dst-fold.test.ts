// The fall-back rule on the cases that used to go wrong: a crontab whose hour field is every hour keeps its
// cadence in real time through the repeated hour; a fixed-time crontab runs once, at the first occurrence, or at
// the second when it had not run yet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleDefinition, TaskDefinition } from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';

const MINUTE = 60_000;

function cron(expr: string): Extract<ScheduleDefinition, { kind: 'crontab' }> {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expr.split(' ') as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { kind: 'crontab', minute, hour, dayOfMonth, monthOfYear, dayOfWeek };
}

/** The slots in (from, to], walked with next(), as UTC times of day. */
function walk(expr: string, zone: string, from: string, to: string): string[] {
  const s = compileSchedule(cron(expr), zone);
  const out: string[] = [];
  for (let t = s.next(Date.parse(from)); t !== null && t <= Date.parse(to); t = s.next(t)) {
    out.push(new Date(t).toISOString().slice(11, 16));
  }
  return out;
}

function longestGapMinutes(expr: string, zone: string, from: string, to: string): number {
  const s = compileSchedule(cron(expr), zone);
  let longest = 0;
  let previous = Date.parse(from);
  for (let t = s.next(previous); t !== null && t <= Date.parse(to); t = s.next(t)) {
    longest = Math.max(longest, (t - previous) / MINUTE);
    previous = t;
  }
  return longest;
}

test('Europe/Berlin */15 runs every 15 real minutes through the repeated hour of 2025-10-26', () => {
  // 01:00Z is 03:00 CEST turned back to 02:00 CET; it used to run 00:30Z, 00:45Z and then only 02:00Z.
  assert.deepEqual(walk('*/15 * * * *', 'Europe/Berlin', '2025-10-26T00:20:00Z', '2025-10-26T02:00:00Z'), [
    '00:30',
    '00:45',
    '01:00',
    '01:15',
    '01:30',
    '01:45',
    '02:00',
  ]);
  assert.equal(
    longestGapMinutes('*/15 * * * *', 'Europe/Berlin', '2025-10-25T22:00:00Z', '2025-10-27T00:00:00Z'),
    15,
  );
  // The 25-hour day has 100 quarter hours; latest() counts them without walking and agrees with next().
  const s = compileSchedule(cron('*/15 * * * *'), 'Europe/Berlin');
  const day = s.latest(Date.parse('2025-10-25T21:59:59Z'), Date.parse('2025-10-26T22:59:59Z'));
  assert.deepEqual(day, { slot: Date.parse('2025-10-26T22:45:00Z'), count: 100 });
});

test('America/New_York */20 runs every 20 real minutes through the repeated hour of 2025-11-02', () => {
  // 06:00Z is 02:00 EDT turned back to 01:00 EST; it used to jump from 05:40Z to 07:00Z.
  assert.deepEqual(walk('*/20 * * * *', 'America/New_York', '2025-11-02T05:30:00Z', '2025-11-02T07:00:00Z'), [
    '05:40',
    '06:00',
    '06:20',
    '06:40',
    '07:00',
  ]);
});

test('Australia/Lord_Howe */10 runs every 10 real minutes through its repeated half hour of 2025-04-06', () => {
  // 15:00Z is 02:00 (+11:00) turned back to 01:30 (+10:30); it used to leave a 40-minute hole.
  assert.deepEqual(
    walk('*/10 * * * *', 'Australia/Lord_Howe', '2025-04-05T14:35:00Z', '2025-04-05T15:30:00Z'),
    ['14:40', '14:50', '15:00', '15:10', '15:20', '15:30'],
  );
  assert.equal(
    longestGapMinutes('*/10 * * * *', 'Australia/Lord_Howe', '2025-04-05T12:00:00Z', '2025-04-05T18:00:00Z'),
    10,
  );
});

test('an hour field of 0-23 counts as every hour; a fixed hour in the fold runs once per wall time', () => {
  const from = '2025-11-02T04:50:00Z';
  const to = '2025-11-02T07:10:00Z';
  assert.deepEqual(
    walk('0,30 0-23 * * *', 'America/New_York', from, to),
    walk('0,30 * * * *', 'America/New_York', from, to),
  );
  // 01:00 and 01:30 EDT (05:00Z, 05:30Z) run; their second occurrences (06:00Z, 06:30Z) do not.
  assert.deepEqual(walk('0,30 1 * * *', 'America/New_York', from, to), ['05:00', '05:30']);
  assert.deepEqual(walk('0,30 1-2 * * *', 'America/New_York', from, to), ['05:00', '05:30', '07:00']);
});

function daily(expr: string): TaskDefinition {
  return {
    namespace: 'default',
    name: 't',
    uid: '',
    generation: 1,
    task: 'tasks.add',
    schedule: cron(expr),
    timeZone: 'America/New_York',
    enabled: true,
    args: [],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    oneOff: false,
  };
}

test('America/New_York daily 1:30 first seen between the two 01:30s of 2025-11-02 runs at the second', () => {
  const def = daily('30 1 * * *');
  const s = compileSchedule(def.schedule, def.timeZone);
  const first = Date.parse('2025-11-02T05:30:00Z'); // 01:30 EDT
  const second = Date.parse('2025-11-02T06:30:00Z'); // 01:30 EST
  for (const seen of [
    '2025-11-02T05:45:00Z',
    '2025-11-02T05:59:59.999Z',
    '2025-11-02T06:00:00Z',
    '2025-11-02T06:29:00Z',
  ]) {
    const cursor = initialCursor(def, Date.parse(seen));
    assert.equal(s.next(cursor), second, `first seen at ${seen}`);
    const plan = planSlots(s, cursor, second + 5_000);
    assert.deepEqual(
      plan,
      { run: second, missed: 0, newCursor: second, next: Date.parse('2025-11-03T06:30:00Z') },
      seen,
    );
  }
  // A task that ran at the first 01:30 does not run again at the second.
  assert.equal(s.next(first), Date.parse('2025-11-03T06:30:00Z'));
  assert.equal(planSlots(s, first, second + 5_000).run, null);
  // First seen before the first 01:30: it runs then, once.
  assert.equal(s.next(Date.parse('2025-11-02T05:00:00Z')), first);
});

test('a fixed-time crontab first seen inside the first pass runs every repeated time in the second pass', () => {
  // The cursor holds only an instant: after a run at 01:30 EDT it could not tell that 01:00 had not run, so from
  // a first sighting at 01:10 EDT both 01:00 and 01:30 run at their second occurrence, each exactly once.
  assert.deepEqual(walk('0,30 1 * * *', 'America/New_York', '2025-11-02T05:10:00Z', '2025-11-02T07:10:00Z'), [
    '06:00',
    '06:30',
  ]);
  const s = compileSchedule(cron('0,30 1 * * *'), 'America/New_York');
  assert.deepEqual(s.latest(Date.parse('2025-11-02T05:10:00Z'), Date.parse('2025-12-02T00:00:00Z')), {
    slot: Date.parse('2025-12-01T06:30:00Z'),
    count: 2 + 29 * 2,
  });
});
