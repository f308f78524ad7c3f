// Celery 5.2.6's captured answers (fixtures/schedule_vectors.json) against the engine. Where the design
// chooses otherwise (fixed interval grid, crontab always read in timeZone, exact DST wake-ups) the test pins
// the difference instead of Celery's value.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ScheduleDefinition } from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import {
  type CrontabFieldName,
  FIELD_RANGES,
  parseCrontabField,
} from '../../../src/schedule/crontab-parse.ts';

interface Vector {
  case: string;
  kind?: 'interval' | 'crontab';
  run_every_s?: number;
  relative?: boolean;
  spec?: Record<string, string | number> | string;
  last_run_at?: string;
  now?: string;
  is_due?: boolean;
  next_check_at_utc?: string;
  next_run_from_last_utc?: string;
  app_timezone?: string;
  max_?: number;
  min_?: number;
  result?: number[];
  error?: string;
}

const vectors: Vector[] = JSON.parse(
  readFileSync(new URL('./fixtures/schedule_vectors.json', import.meta.url), 'utf8'),
);

/** Python's datetime.fromisoformat: a naive time counts as UTC (as Celery treats it). */
function instant(iso: string): number {
  return Date.parse(/[+-]\d\d:\d\d$|Z$/.test(iso) ? iso : `${iso}Z`);
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function celeryCrontab(spec: Record<string, string | number>): ScheduleDefinition {
  const field = (k: string): string => (spec[k] === undefined ? '*' : String(spec[k]));
  return {
    kind: 'crontab',
    minute: field('minute'),
    hour: field('hour'),
    dayOfWeek: field('day_of_week'),
    dayOfMonth: field('day_of_month'),
    monthOfYear: field('month_of_year'),
  };
}

/** The app zone of a capture: given, or Berlin when its times carry Berlin offsets (nowfun in Berlin). */
function zoneOf(v: Vector): string {
  if (v.app_timezone) return v.app_timezone;
  return [v.last_run_at, v.now].some((t) => /\+0[12]:00$/.test(t!)) ? 'Europe/Berlin' : 'UTC';
}

/** Vectors whose meaning the design deliberately does not follow, with what the operator does instead. */
const DIFFERENCES: Record<string, { next: string; why: string }> = {
  interval_missed_many: {
    next: '2026-11-24T10:28:23.500Z',
    why: 'fixed grid: the next slot is last slot + every, not send time + every (Celery: 10:28:33.5)',
  },
  cron_tz_berlin_last_run_stored_as_utc: {
    next: '2026-11-24T08:00:00.000Z',
    why: 'crontab is always read in timeZone, however last_run_at is stored (Celery 5.2.6: 09:00Z, an hour late)',
  },
  cron_dst_fall_next_check_hint_early: {
    next: '2027-11-01T01:30:00.000Z',
    why: 'the next run is exact; Celery wakes an hour early (00:30Z) and then waits until 01:30Z',
  },
};

/** `relative=True` intervals are a Python-API flag that PeriodicTask does not have. */
const NOT_APPLICABLE = new Set([
  'interval_relative_1h',
  'interval_relative_90s',
  'interval_relative_30s',
  'interval_relative_1d',
]);

const scheduleVectors = vectors.filter((v) => v.kind !== undefined);

test('every schedule vector is either checked or listed as not applicable', () => {
  const applicable = scheduleVectors.filter((v) => !NOT_APPLICABLE.has(v.case));
  assert.equal(applicable.length + NOT_APPLICABLE.size, scheduleVectors.length);
  assert.ok(applicable.length >= 20);
});

for (const v of scheduleVectors.filter((x) => !NOT_APPLICABLE.has(x.case))) {
  test(`vector ${v.case}`, () => {
    const def: ScheduleDefinition =
      v.kind === 'interval'
        ? { kind: 'interval', every: v.run_every_s!, period: 'seconds' }
        : celeryCrontab(v.spec as Record<string, string | number>);
    const schedule = compileSchedule(def, zoneOf(v));
    const last = instant(v.last_run_at!);
    const now = instant(v.now!);
    // The Redis cursor is the last slot accounted for; Celery's last_run_at is the send time, a little after.
    const plan = planSlots(schedule, last, now);
    assert.equal(plan.run !== null, v.is_due, 'is_due');
    const difference = DIFFERENCES[v.case];
    if (v.next_run_from_last_utc && !difference) {
      assert.equal(iso(schedule.next(last)), iso(instant(v.next_run_from_last_utc)));
    }
    const expected = difference ? difference.next : iso(instant(v.next_check_at_utc!));
    assert.equal(iso(plan.next), expected, difference?.why ?? 'next run');
    if (difference) assert.notEqual(iso(plan.next), iso(instant(v.next_check_at_utc!)));
  });
}

const FIELD_BY_RANGE: Record<string, CrontabFieldName> = {
  '60,0': 'minute',
  '7,0': 'dayOfWeek',
  '12,1': 'monthOfYear',
};
const CTOR_FIELD: Record<string, CrontabFieldName> = {
  day_of_week: 'dayOfWeek',
  month_of_year: 'monthOfYear',
  hour: 'hour',
  minute: 'minute',
};

for (const v of vectors.filter((x) => x.case === 'parse')) {
  test(`crontab_parser(${v.max_}, ${v.min_}) of ${JSON.stringify(v.spec)}`, () => {
    const field = FIELD_BY_RANGE[`${v.max_},${v.min_}`]!;
    assert.ok(field);
    assert.equal(FIELD_RANGES[field].max, v.max_! + v.min_! - 1);
    const parsed = parseCrontabField(String(v.spec), field);
    if (v.result) assert.deepEqual(parsed, { ok: true, values: v.result });
    else {
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.celeryMessage, v.error!.replace(/^\w+: /, ''));
    }
  });
}

for (const v of vectors.filter((x) => x.case === 'crontab_ctor')) {
  test(`crontab(${JSON.stringify(v.spec)}) is rejected`, () => {
    const [key, value] = Object.entries(v.spec as Record<string, string | number>)[0]!;
    const parsed = parseCrontabField(String(value), CTOR_FIELD[key]!);
    assert.equal(parsed.ok, false);
  });
}

// Captured from Celery 5.2.6 (pytz): crontab(minute='*/15') in Europe/Berlin, last run 2027-10-31 02:45 CEST
// (00:45Z). At 01:00:01Z (02:00 CET) is_due is (False, 3599.0): 5.2.6 leaves the repeated hour silent and runs
// next at 02:00Z. The operator's fold rule keeps every-hour crontabs on their real-time cadence instead.
test('fold difference: */15 in Berlin runs through the repeated hour (Celery 5.2.6: next at 02:00Z)', () => {
  const schedule = compileSchedule(celeryCrontab({ minute: '*/15' }), 'Europe/Berlin');
  const last = instant('2027-10-31T00:45:00Z');
  const plan = planSlots(schedule, last, instant('2027-10-31T01:00:01Z'));
  assert.deepEqual([iso(plan.run), iso(plan.next)], ['2027-10-31T01:00:00.000Z', '2027-10-31T01:15:00.000Z']);
  assert.notEqual(iso(plan.next), '2027-10-31T02:00:00.000Z');
});
