// Several schedules and exclusions against oracles of their own: a set's slots are the sorted union of its
// schedules' slots without duplicates (an interval of a set on the grid through startTime, else the epoch,
// computed here by arithmetic), and no slot of a task lies on an excluded wall minute (the wall clock read
// here through Intl, the calendars through the crontab parser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ExclusionDefinition, SingleScheduleDefinition, TaskDefinition } from '../../src/api/types.ts';
import { compileSchedule, compileTaskSchedule } from '../../src/schedule/compile.ts';
import { type CrontabFieldName, parseCrontabField } from '../../src/schedule/crontab-parse.ts';
import { PERIOD_MICROSECONDS } from '../../src/schedule/interval-schedule.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { check } from './fc-config.ts';
import { REFERENCE_MS, type Spec, timeZone, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/schedule-sets.test.ts';
const DAY_MS = 86_400_000;

function definition(spec: Spec, zone: string): TaskDefinition {
  const manifest = {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 's', namespace: 'prop', uid: 'u', generation: 1 },
    spec,
  };
  const result = validatePeriodicTask(manifest, { defaultTimeZone: zone });
  if (!result.ok) throw new Error(`a generated valid spec is refused: ${JSON.stringify(result.errors)}`);
  return result.definition;
}

const from = fc.integer({ min: REFERENCE_MS - 60 * DAY_MS, max: REFERENCE_MS + 60 * DAY_MS });

/** The slots of one schedule of a set in (after, upTo], at most `max` of them. */
function memberSlots(
  s: SingleScheduleDefinition,
  zone: string,
  anchor: number,
  after: number,
  upTo: number,
  max: number,
): number[] {
  const out: number[] = [];
  const grid =
    s.kind === 'interval'
      ? s.every * PERIOD_MICROSECONDS[s.period]
      : s.kind === 'cron' && 'intervalSeconds' in s.documented
        ? s.documented.intervalSeconds * 1_000_000
        : null;
  if (grid !== null) {
    // Exact in BigInt microseconds: anchor + k·every for the first k past `after`.
    const every = BigInt(grid);
    const anchorUs = BigInt(s.kind === 'cron' ? Math.floor(anchor / 1000) * 1000 : anchor) * 1000n;
    const afterUs = BigInt(Math.floor(after)) * 1000n;
    let k = (afterUs - anchorUs) / every;
    while (anchorUs + k * every <= afterUs) k++;
    while (anchorUs + (k - 1n) * every > afterUs) k--;
    for (; out.length < max; k++) {
      const us = anchorUs + k * every;
      const t = us % 1000n === 0n ? Number(us / 1000n) : Number(us) / 1000;
      if (t > upTo) break;
      out.push(t);
    }
    return out;
  }
  const schedule = compileSchedule(s, zone);
  for (let t = schedule.next(after); t !== null && t <= upTo && out.length < max; t = schedule.next(t))
    out.push(t);
  return out;
}

test(`a set's slots are the sorted union of its schedules' slots, without duplicates (${FILE})`, async () => {
  const sets = fc
    .tuple(validSpec({ subMillisecond: false }), timeZone)
    .filter(([spec]) => Array.isArray(spec.schedules));
  await check(
    FILE,
    fc.property(sets, from, ([spec, zone], after) => {
      const { exclude: _e, endTime: _t, ...plain } = spec;
      const def = definition(plain, zone);
      assert.equal(def.schedule.kind, 'set');
      if (def.schedule.kind !== 'set') return;
      const schedule = compileSchedule(def.schedule, def.timeZone, def.startTime);
      const walked: number[] = [];
      for (let t = schedule.next(after); t !== null && walked.length < 40; t = schedule.next(t))
        walked.push(t);
      const upTo = walked.length < 40 ? Number.POSITIVE_INFINITY : (walked.at(-1) as number);
      const union = [
        ...new Set(
          def.schedule.schedules.flatMap((s) =>
            memberSlots(s, def.timeZone, def.startTime ?? 0, after, upTo, 40),
          ),
        ),
      ]
        .sort((a, b) => a - b)
        .slice(0, 40);
      assert.deepEqual(walked, union);
      // latest() over the same window counts each shared instant once.
      if (walked.length > 0) {
        const last = walked.at(-1) as number;
        assert.deepEqual(schedule.latest(after, last), { slot: last, count: walked.length });
      }
    }),
    150,
  );
});

const WALL = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a zone, read by Intl (independent of the engine's zone tables). */
function wallFields(ms: number, zone: string) {
  let format = WALL.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
      era: 'short',
    });
    WALL.set(zone, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(Math.floor(ms / 1000) * 1000)) parts[p.type] = p.value;
  const bc = parts.era === 'BC' || parts.era === 'B';
  return {
    year: bc ? 1 - Number(parts.year) : Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday as string),
  };
}

function excludedAt(ms: number, zone: string, exclude: readonly ExclusionDefinition[]): string | null {
  const w = wallFields(ms, zone);
  const date = `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
  for (const e of exclude) {
    if (e.kind === 'date') {
      if (e.date === date) return `date ${e.date}`;
      continue;
    }
    const has = (field: CrontabFieldName, value: number): boolean => {
      const parsed = parseCrontabField(e[field], field);
      return parsed.ok && parsed.values.includes(value);
    };
    if (
      has('minute', w.minute) &&
      has('hour', w.hour) &&
      has('dayOfMonth', w.day) &&
      has('monthOfYear', w.month) &&
      has('dayOfWeek', w.weekday)
    )
      return `calendar ${JSON.stringify(e)}`;
  }
  return null;
}

test(`no slot of a task lies on an excluded wall minute, and next() passes over only excluded slots (${FILE})`, async () => {
  const excluding = fc
    .tuple(validSpec({ subMillisecond: false }), timeZone)
    .filter(([spec]) => Array.isArray(spec.exclude) && spec.exclude.length > 0);
  await check(
    FILE,
    fc.property(excluding, from, ([spec], after) => {
      const { endTime: _t, ...open } = spec;
      const def = definition(open, 'UTC');
      const exclude = def.exclude ?? [];
      const task = compileTaskSchedule(def);
      const whole = compileSchedule(def.schedule, def.timeZone, def.startTime);
      let t: number | null = after;
      for (let i = 0; i < 15 && t !== null; i++) {
        const slot: number | null = task.next(t);
        if (slot === null) return;
        const why = excludedAt(slot, def.timeZone, exclude);
        assert.equal(why, null, `slot ${new Date(slot).toISOString()} is excluded by ${why}`);
        // Every slot of the schedule skipped on the way was excluded (asked from the last slot: interval grids).
        let skipped = 0;
        for (let s = whole.next(t); s !== null && s < slot && skipped < 200; s = whole.next(s), skipped++)
          assert.notEqual(
            excludedAt(s, def.timeZone, exclude),
            null,
            `slot ${new Date(s).toISOString()} was skipped`,
          );
        t = slot;
      }
    }),
    150,
  );
});
