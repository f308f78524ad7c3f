// Several schedules per task (the merged slots, an instant shared counted once, intervals on a grid fixed in
// time) and exclusions (excluded slots are no slots: next passes them, latest neither returns nor counts them),
// each checked against a walk over the member schedules' own slots.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  ExclusionDefinition,
  ScheduleDefinition,
  SingleScheduleDefinition,
} from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule, compileTaskSchedule } from '../../../src/schedule/compile.ts';
import { completionOf } from '../../../src/schedule/completion.ts';
import { cronDefinition } from '../../../src/schedule/cron-job-parse.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';
import type { Schedule } from '../../../src/schedule/schedule.ts';
import { definition, runState } from '../../support/fakes/definitions.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 20, 0, 0, 0);

const crontab = (minute: string, hour = '*', extra: Partial<Record<string, string>> = {}) =>
  ({
    kind: 'crontab',
    minute,
    hour,
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
    ...extra,
  }) as SingleScheduleDefinition;
const calendar = (fields: Partial<Record<string, string>>): ExclusionDefinition => ({
  kind: 'calendar',
  minute: '*',
  hour: '*',
  dayOfWeek: '*',
  dayOfMonth: '*',
  monthOfYear: '*',
  ...fields,
});

function walk(schedule: Schedule, after: number, upTo: number): number[] {
  const slots: number[] = [];
  for (let s = schedule.next(after); s !== null && s <= upTo; s = schedule.next(s)) slots.push(s);
  return slots;
}

const iso = (ms: number) => new Date(ms).toISOString();

test('a set runs at the sorted union of its schedules, an instant two of them share once', () => {
  const set: ScheduleDefinition = {
    kind: 'set',
    schedules: [
      { kind: 'interval', every: 20, period: 'minutes' },
      crontab('0,30'),
      { kind: 'clocked', at: T0 + 45 * MINUTE },
    ],
  };
  const s = compileSchedule(set, 'UTC');
  const slots = walk(s, T0, T0 + 2 * HOUR).map((t) => (t - T0) / MINUTE);
  assert.deepEqual(slots, [20, 30, 40, 45, 60, 80, 90, 100, 120]);
  const due = s.latest(T0, T0 + 2 * HOUR);
  assert.deepEqual(due, { slot: T0 + 2 * HOUR, count: slots.length });
  // From a cursor that is another member's slot the interval keeps its grid (epoch-anchored).
  assert.equal(s.next(T0 + 30 * MINUTE), T0 + 40 * MINUTE);
  assert.equal(s.next(T0 + 45 * MINUTE), T0 + 60 * MINUTE);
});

test("a set's interval is anchored at startTime", () => {
  const start = T0 + 7 * MINUTE;
  const def = definition('set', {
    schedule: {
      kind: 'set',
      schedules: [{ kind: 'interval', every: 10, period: 'minutes' }, crontab('0', '*')],
    },
    startTime: start,
  });
  const s = compileTaskSchedule(def);
  const cursor = initialCursor(def, T0);
  assert.equal(cursor, start - 1);
  const slots = walk(s, cursor, T0 + HOUR).map((t) => (t - T0) / MINUTE);
  assert.deepEqual(slots, [7, 17, 27, 37, 47, 57, 60]);
});

test('set latest() over a long window counts as a walk does (minutely crontab and a 30 s grid share minutes)', () => {
  const s = compileSchedule(
    {
      kind: 'set',
      schedules: [
        { kind: 'interval', every: 30, period: 'seconds' },
        crontab('*/5'),
        crontab('*/3'),
        cronDefinition('0 12 * * *'),
      ],
    },
    'Europe/Berlin',
  );
  for (const [from, to] of [
    [T0 + 1, T0 + 3 * HOUR],
    [T0 + 12_345, T0 + 2 * DAY + 7],
  ] as const) {
    const slots = walk(s, from, to);
    assert.deepEqual(s.latest(from, to), { slot: slots.at(-1), count: slots.length });
  }
});

test('excluded dates and calendars are passed over by next and neither returned nor counted by latest', () => {
  const def = definition('holidays', {
    schedule: crontab('0', '9'),
    timeZone: 'Europe/Berlin',
    exclude: [{ kind: 'date', date: '2026-12-21' }, calendar({ monthOfYear: '12', dayOfMonth: '24-26' })],
  });
  const s = compileTaskSchedule(def);
  const days = walk(s, T0, T0 + 10 * DAY).map((t) => iso(t).slice(0, 13));
  assert.deepEqual(days, [
    '2026-12-20T08',
    '2026-12-22T08',
    '2026-12-23T08',
    '2026-12-27T08',
    '2026-12-28T08',
    '2026-12-29T08',
  ]);
  assert.deepEqual(s.latest(T0, T0 + 10 * DAY), { slot: Date.UTC(2026, 11, 29, 8), count: 6 });
  assert.deepEqual(s.latest(Date.UTC(2026, 11, 23, 9), Date.UTC(2026, 11, 26, 23)), null);
  // An outage over the holidays: the slot run is the last one not excluded, and nothing excluded is missed.
  const plan = planSlots(s, Date.UTC(2026, 11, 22, 9), Date.UTC(2026, 11, 26, 23));
  assert.deepEqual(plan, {
    run: Date.UTC(2026, 11, 23, 8),
    missed: 0,
    newCursor: Date.UTC(2026, 11, 23, 8),
    next: Date.UTC(2026, 11, 27, 8),
  });
});

test('an interval with an excluded hour keeps its grid and counts as a walk', () => {
  const def = definition('nightly-quiet', {
    schedule: { kind: 'interval', every: 7, period: 'minutes' },
    timeZone: 'America/New_York',
    exclude: [calendar({ hour: '1-3' }), calendar({ dayOfWeek: 'sun', minute: '0-29' })],
  });
  const s = compileTaskSchedule(def);
  const cursor = Date.UTC(2026, 10, 1, 2, 3, 11); // across the fall-back in New York
  const slots = walk(s, cursor, cursor + 3 * DAY);
  for (const t of slots) assert.equal((t - cursor) % (7 * MINUTE), 0, iso(t));
  const inner = walk(compileSchedule(def.schedule, def.timeZone), cursor, cursor + 3 * DAY);
  assert.ok(slots.length < inner.length);
  for (const [to] of [[cursor + DAY], [cursor + 3 * DAY], [cursor + 5 * HOUR]] as const) {
    const expected = slots.filter((t) => t <= to);
    assert.deepEqual(s.latest(cursor, to), { slot: expected.at(-1), count: expected.length }, iso(to));
  }
});

test('a set whose clocked times have passed, or whose every slot is excluded, is completed', () => {
  const clocked = definition('two-times', {
    schedule: {
      kind: 'set',
      schedules: [
        { kind: 'clocked', at: T0 },
        { kind: 'clocked', at: T0 + HOUR },
      ],
    },
  });
  assert.equal(completionOf(clocked, runState(T0)), null);
  assert.equal(completionOf(clocked, runState(T0 + HOUR, { totalRunCount: 2 })), 'no-slot');
  const never = definition('never', { schedule: crontab('0', '10'), exclude: [calendar({ hour: '10' })] });
  assert.equal(compileTaskSchedule(never).next(T0), null);
  assert.equal(completionOf(never, runState(T0)), 'no-slot');
});

test("a set's sub-millisecond grid: next() of its own slot is the slot after it, where the slot reads a fraction of a microsecond off", () => {
  // A slot of this grid given back in milliseconds (1787788008856.72) is 0.12 µs off its microsecond point.
  const schedule = compileTaskSchedule(
    definition('sub-ms', {
      schedule: {
        kind: 'set',
        schedules: [
          { kind: 'interval', every: 2105241967, period: 'microseconds' },
          cronDefinition('* * 1 */1 *'),
        ],
      },
      startTime: -7219411853000,
    }),
  );
  let t = 1787737483050;
  for (let i = 0; i < 200; i++) {
    const next = schedule.next(t);
    assert.ok(next !== null && next > t, `next(${t}) = ${next} is not after it`);
    t = next;
  }
});
