// Every instant a PeriodicTask can name (years 1-9999, as Celery's datetime holds them) survives the Redis format:
// the datetime object and the run-state tail decode to the same instant and encode to the same text, which is
// what the dispatch script's compare-and-swap compares. The first century is where Date.UTC misreads years
// (0-99 as 1900-1999), so a third of the cases are drawn from it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ScheduleDefinition } from '../../src/api/types.ts';
import type { RunState } from '../../src/contracts.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { decodeDatetime, encodeDatetime } from '../../src/store/datetime.ts';
import { decodeRunStateTail, encodeRunStateTail } from '../../src/store/task-record.ts';
import { check } from './fc-config.ts';

const FILE = 'test/property/datetimes.test.ts';

const FIRST_MS = Date.parse('0001-01-01T00:00:00Z');
const FIRST_CENTURY_END_MS = Date.parse('0100-01-01T00:00:00Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');
const MINUTE_MS = 60_000;

/** Whole milliseconds in years 1-9999, a third of them in years 1-99. */
const instantMs = fc.oneof(
  fc.integer({ min: FIRST_MS, max: FIRST_CENTURY_END_MS - 1 }),
  fc.integer({ min: FIRST_MS, max: LAST_MS }),
  fc.constantFrom(FIRST_MS, FIRST_CENTURY_END_MS - 1, FIRST_CENTURY_END_MS, LAST_MS),
);

/** With a microsecond fraction, as sub-millisecond interval slots have. */
const instantWithMicros = fc
  .tuple(instantMs, fc.integer({ min: 0, max: 999 }))
  // One millisecond short of the end: a fraction near year 9999 is rounded to 1/32 ms by the double itself.
  .map(([ms, micros]) => Math.min(LAST_MS - 1, ms) + micros / 1000);

const runState = fc.record({
  cursor: instantWithMicros,
  totalRunCount: fc.nat(),
  lastTaskId: fc.option(fc.uuid(), { nil: null }),
  lastTaskSlot: fc.option(instantMs, { nil: null }),
  missedRunCount: fc.nat(),
  pausedRunCount: fc.nat(),
});

test(`a datetime of years 1-9999 decodes to the instant it encodes (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(instantMs, (ms) => {
      const encoded = encodeDatetime(ms);
      assert.equal(encoded.year, new Date(ms).getUTCFullYear());
      assert.equal(decodeDatetime(encoded), ms);
      // What Python's json.loads and datetime(**fields) would read back: the same fields.
      assert.deepEqual(encodeDatetime(decodeDatetime(JSON.parse(JSON.stringify(encoded)))), encoded);
    }),
    300,
  );
});

test(`the run-state tail of years 1-9999 decodes and re-encodes to the same text (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(runState, (state: RunState) => {
      const tail = encodeRunStateTail(state);
      const decoded = decodeRunStateTail(tail);
      // The dispatch script compares tails as text: the beat's expected tail must be the stored one.
      assert.equal(encodeRunStateTail(decoded), tail);
      assert.ok(
        Math.abs(decoded.cursor - state.cursor) < 0.0005,
        `cursor ${decoded.cursor} != ${state.cursor}`,
      );
      assert.equal(decoded.lastTaskSlot, state.lastTaskSlot);
    }),
    300,
  );
});

test(`a crontab's next slot after a cursor of years 1-9998 is the following minute (${FILE})`, async () => {
  const everyMinute: ScheduleDefinition = {
    kind: 'crontab',
    minute: '*',
    hour: '*',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
  };
  await check(
    FILE,
    fc.property(
      fc.integer({ min: FIRST_MS, max: LAST_MS - 366 * 86_400_000 }),
      fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
      (cursor, zone) => {
        const schedule = compileSchedule(everyMinute, zone);
        const next = schedule.next(cursor);
        assert.ok(
          next !== null && next > cursor && next <= cursor + MINUTE_MS,
          `next ${next} after ${cursor}`,
        );
      },
    ),
    100,
  );
});
