// planSlots by catchUp policy (Latest, All, None), the schedule cut at endTime, and the completed rule with
// endTime and maxRuns: each checked against a walk over the slots.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleDefinition } from '../../../src/api/types.ts';
import { type CatchUpRule, planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule, compileTaskSchedule } from '../../../src/schedule/compile.ts';
import { completionOf } from '../../../src/schedule/completion.ts';
import type { Schedule } from '../../../src/schedule/schedule.ts';
import { definition, runState } from '../../support/fakes/definitions.ts';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const MINUTE = 60_000;
const crontab = (minute: string, hour = '*'): ScheduleDefinition => ({
  kind: 'crontab',
  minute,
  hour,
  dayOfWeek: '*',
  dayOfMonth: '*',
  monthOfYear: '*',
});

/** The slots in (after, upTo], walked one by one. */
function walk(schedule: Schedule, after: number, upTo: number): number[] {
  const slots: number[] = [];
  for (let s = schedule.next(after); s !== null && s <= upTo; s = schedule.next(s)) slots.push(s);
  return slots;
}

/** The slots All runs, plan after plan, as the beat makes them (the cursor moving to each run). */
function runAll(schedule: Schedule, cursor: number, now: number, deadline: number | undefined, max: number) {
  const rule: CatchUpRule = { policy: 'All', maxSlots: max };
  const runs: number[] = [];
  let missed = 0;
  for (;;) {
    const plan = planSlots(schedule, cursor, now, deadline, rule);
    missed += plan.missed;
    if (plan.run === null) return { runs, missed, cursor: plan.newCursor };
    assert.equal(plan.newCursor, plan.run, 'the cursor moves to the slot run');
    runs.push(plan.run);
    cursor = plan.run;
  }
}

test('All runs every slot within the deadline, oldest first, and counts the ones before as missed', () => {
  const cases: Array<[ScheduleDefinition, string]> = [
    [{ kind: 'interval', every: 1, period: 'minutes' }, 'Europe/Berlin'],
    [{ kind: 'interval', every: 1_500_500, period: 'microseconds' }, 'UTC'],
    [crontab('*/7'), 'Europe/Berlin'],
    [crontab('15', '*/2'), 'America/New_York'],
  ];
  for (const [def, zone] of cases) {
    const schedule = compileSchedule(def, zone);
    for (const [gap, deadline, max] of [
      [10 * MINUTE, 450, 1000],
      [3 * 86_400_000, 86_400, 1000],
      [3 * 86_400_000, undefined, 17],
      [2000, 1, 1000],
      [10 * MINUTE, undefined, 1],
    ] as const) {
      const cursor = T0 - gap;
      const now = T0 + 0.25;
      const all = walk(schedule, cursor, now);
      const inWindow = deadline === undefined ? all : all.filter((s) => now - s <= deadline * 1000);
      const expected = inWindow.slice(-max);
      const got = runAll(schedule, cursor, now, deadline, max);
      const label = `${JSON.stringify(def)} gap ${gap} deadline ${deadline} max ${max}`;
      assert.deepEqual(got.runs, expected, label);
      assert.equal(got.missed, all.length - expected.length, label);
      assert.equal(got.cursor, all.at(-1) ?? cursor, label);
    }
  }
});

test('All finds its first slot in a gap of millions without walking them', () => {
  const minutely = compileSchedule(crontab('*'), 'Europe/Berlin');
  const cursor = T0 - 5 * 365 * 86_400_000; // five years of minutes: 2.6 million slots
  const plan = planSlots(minutely, cursor, T0, undefined, { policy: 'All', maxSlots: 3 });
  assert.equal(plan.run, T0 - 2 * MINUTE);
  assert.equal(plan.missed, (T0 - cursor) / MINUTE - 3);
});

test('None runs a slot only within its on-time grace (and the deadline); Latest runs the latest', () => {
  const schedule = compileSchedule({ kind: 'interval', every: 1, period: 'minutes' }, 'UTC');
  const none = (late: number, deadline?: number) =>
    planSlots(schedule, T0 - 10 * MINUTE, T0 + late, deadline, { policy: 'None', onTimeMs: 10_000 });
  assert.deepEqual(none(0), { run: T0, missed: 9, newCursor: T0, next: T0 + MINUTE });
  assert.deepEqual(none(10_000), { run: T0, missed: 9, newCursor: T0, next: T0 + MINUTE });
  assert.deepEqual(none(10_001), { run: null, missed: 10, newCursor: T0, next: T0 + MINUTE });
  assert.equal(none(5000, 2).run, null, 'the deadline, when shorter, still holds');
  assert.equal(planSlots(schedule, T0 - 10 * MINUTE, T0 + 30_000).run, T0, 'Latest runs it late');
});

test('endTime cuts the schedule: no slot after it, the slot on it included', () => {
  const def = definition('ending', {
    schedule: { kind: 'interval', every: 1, period: 'minutes' },
    endTime: T0 + 3 * MINUTE,
  });
  const schedule = compileTaskSchedule(def);
  assert.deepEqual(walk(schedule, T0, T0 + 10 * MINUTE), [T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE]);
  assert.deepEqual(schedule.latest(T0, T0 + 10 * MINUTE), { slot: T0 + 3 * MINUTE, count: 3 });
  assert.equal(schedule.latest(T0 + 3 * MINUTE, T0 + 10 * MINUTE), null);
  assert.equal(completionOf(def, runState(T0 + 2 * MINUTE)), null);
  assert.equal(completionOf(def, runState(T0 + 3 * MINUTE)), 'end-time');
  // A crontab whose last slot is before endTime: completed at that slot, before endTime itself.
  const hourly = definition('hourly', { schedule: crontab('0'), endTime: T0 + 90 * MINUTE });
  assert.equal(completionOf(hourly, runState(T0 + 30 * MINUTE)), null);
  assert.equal(completionOf(hourly, runState(T0 + 60 * MINUTE)), 'end-time');
});

test('maxRuns: completed at the run state count; oneOff and clocked keep their reasons', () => {
  const def = definition('limited', { maxRuns: 3 });
  assert.equal(completionOf(def, runState(T0, { totalRunCount: 2 })), null);
  assert.equal(completionOf(def, runState(T0, { totalRunCount: 3 })), 'max-runs');
  assert.equal(
    completionOf(definition('once', { oneOff: true }), runState(T0, { totalRunCount: 1 })),
    'ran-once',
  );
  const clocked = definition('clocked', { schedule: { kind: 'clocked', at: T0 } });
  assert.equal(completionOf(clocked, runState(T0)), 'missed-once');
});
