// The timeline's counts: runs per bucket found by walking the slots one by one (with jitter, pending runs and a
// one-off's single run) and by counting slots per bucket with the schedule (what a task with very many runs in
// the window gets) must agree wherever jitter cannot move a run, and both must add up to the schedule's own
// count of the window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ScheduleDefinition } from '../../src/api/types.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { cronDefinition } from '../../src/schedule/cron-job-parse.ts';
import { runsPerBucket } from '../../src/schedule/run-counts.ts';
import type { RunPlan } from '../../src/schedule/run-plan.ts';
import { definition } from '../support/fakes/definitions.ts';
import { check } from './fc-config.ts';

const FILE = 'test/property/run-counts.test.ts';
const HOUR = 3_600_000;

const scheduleArbitrary: fc.Arbitrary<ScheduleDefinition> = fc.oneof(
  fc
    .record({ every: fc.integer({ min: 1, max: 7200 }), period: fc.constantFrom('seconds' as const) })
    .map((s) => ({ kind: 'interval' as const, ...s })),
  fc
    .record({
      minute: fc.constantFrom('0', '*/15', '5,35', '*'),
      hour: fc.constantFrom('*', '2', '*/3', '9-17'),
      dayOfWeek: fc.constantFrom('*', 'mon-fri'),
    })
    .map((s) => ({ kind: 'crontab' as const, ...s, dayOfMonth: '*', monthOfYear: '*' })),
  fc.constantFrom('0 * * * *', '*/5 2-4 * * *', '@hourly', '30 1 * * 0').map(cronDefinition),
);

test('walking the slots and counting them per bucket agree, and add up to the schedule count', async () => {
  await check(
    FILE,
    fc.property(
      scheduleArbitrary,
      fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
      fc.integer({ min: 0, max: 3 * HOUR }),
      fc.constantFrom(60_000, HOUR),
      fc.integer({ min: 1, max: 48 }),
      (spec, zone, start, lead, bucketMs, count) => {
        const def = definition('t', { schedule: spec, timeZone: zone });
        const schedule = compileSchedule(spec, zone);
        const from = Math.floor(start / bucketMs) * bucketMs;
        const plan: RunPlan = {
          def,
          schedule,
          cursor: from - lead,
          pending: [],
          limit: Number.POSITIVE_INFINITY,
        };
        const buckets = { from, bucketMs, count };
        const walked = runsPerBucket(plan, buckets, Number.POSITIVE_INFINITY);
        const counted = runsPerBucket(plan, buckets, 0);
        assert.deepEqual(counted, walked);
        const to = from + bucketMs * count;
        const inWindow =
          (schedule.latest(plan.cursor, to - 0.0005)?.count ?? 0) -
          (from - 0.0005 > plan.cursor ? (schedule.latest(plan.cursor, from - 0.0005)?.count ?? 0) : 0);
        assert.equal(
          walked.reduce((a, b) => a + b, 0),
          inWindow,
        );
      },
    ),
    300,
  );
});

test('a one-off runs once, pending runs count, jitter moves a run into its own bucket', () => {
  const from = Date.UTC(2026, 11, 7, 6);
  const buckets = { from, bucketMs: 60_000, count: 60 };
  const hourly = compileSchedule(
    { kind: 'crontab', minute: '*', hour: '*', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*' },
    'UTC',
  );
  const plan = (overrides: Partial<RunPlan>): RunPlan => ({
    def: definition('t'),
    schedule: hourly,
    cursor: from - 1,
    pending: [],
    limit: Number.POSITIVE_INFINITY,
    ...overrides,
  });
  assert.deepEqual(runsPerBucket(plan({}), buckets), new Array(60).fill(1));
  const once = runsPerBucket(plan({ limit: 1 }), buckets);
  assert.equal(once[0], 1);
  assert.equal(
    once.reduce((a, b) => a + b, 0),
    1,
  );
  // A pending run uses up a one-off's run.
  const pendingOnce = runsPerBucket(plan({ limit: 1, pending: [from + 30 * 60_000] }), buckets);
  assert.equal(pendingOnce[30], 1);
  assert.equal(
    pendingOnce.reduce((a, b) => a + b, 0),
    1,
  );
  // Jitter of up to 59 s keeps every run inside its own minute; the sum stays one per slot in the window.
  const jittered = runsPerBucket(plan({ def: definition('t', { jitterMs: 59_000 }) }), buckets);
  assert.deepEqual(jittered, new Array(60).fill(1));
  assert.deepEqual(runsPerBucket(plan({ limit: 0 }), buckets), new Array(60).fill(0));
});
