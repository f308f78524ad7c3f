// The solar schedule: Celery 5.2.6's captured answers (fixtures/solar_vectors.json), its two bugs decided here
// (dusk_astronomical at -18°; days without the event skipped, never raised), slots that do not depend on the
// instant they are asked from, latest() agreeing with a walk, the day note and the crontab written for readers
// of the documented kinds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ScheduleDefinition, SolarEvent, TaskDefinition } from '../../../src/api/types.ts';
import { planSlots } from '../../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';
import { scheduleDayNote } from '../../../src/schedule/day-note.ts';
import { describeSchedule } from '../../../src/schedule/describe.ts';
import type { Schedule } from '../../../src/schedule/schedule.ts';
import { equinoxCrontab, happensEveryDay } from '../../../src/schedule/solar-events.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

interface SolarVector {
  event: SolarEvent;
  lat: number;
  lon: number;
  place: string;
  error?: string;
  last_run_at?: string;
  next_event_utc?: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/solar_vectors.json', import.meta.url), 'utf8'),
) as SolarVector[];

function solar(event: SolarEvent, latitude: number, longitude: number): ScheduleDefinition {
  return {
    kind: 'solar',
    event,
    latitude,
    longitude,
    documented: { crontab: equinoxCrontab(event, latitude, longitude) },
  };
}

const scheduleOf = (event: SolarEvent, latitude: number, longitude: number): Schedule =>
  compileSchedule(solar(event, latitude, longitude), 'UTC');

function walk(schedule: Schedule, after: number, atOrBefore: number): number[] {
  const slots: number[] = [];
  for (let at = schedule.next(after); at !== null && at <= atOrBefore; at = schedule.next(at)) slots.push(at);
  return slots;
}

const JUNE_21 = Date.UTC(2026, 5, 21);

test("Celery 5.2.6's next events within a minute, but dusk_astronomical at -18° (Celery 5.2.6 used +18°)", () => {
  let compared = 0;
  for (const v of vectors) {
    if (v.error !== undefined || v.event === 'dusk_astronomical') continue;
    const next = scheduleOf(v.event, v.lat, v.lon).next(Date.parse(v.last_run_at!));
    const celery = Date.parse(v.next_event_utc!);
    assert.ok(
      next !== null && Math.abs(next - celery) <= MINUTE,
      `${v.event} ${v.place}: ${next} vs ${celery}`,
    );
    compared++;
  }
  assert.equal(compared, 16);
  // Celery 5.2.6 answers 17:10Z for Berlin on the solstice (the sun setting through +18°); the meaning, and
  // Celery from 5.6.3, is the sun setting through -18°, which Berlin does not reach that night.
  const berlin = scheduleOf('dusk_astronomical', 52.52, 13.405).next(JUNE_21)!;
  assert.ok(berlin > Date.UTC(2026, 6, 20), new Date(berlin).toISOString());
  const equator = scheduleOf('dusk_astronomical', 0, 0).next(JUNE_21)!;
  const celeryPlus18 = Date.parse('2026-06-21T16:43:07Z');
  assert.ok(
    equator - celeryPlus18 > 2 * 3_600_000,
    'at the equator the -18° dusk is hours after the +18° one',
  );
});

test('where Celery 5.2.6 raises (polar day), the next run is the next day with the event', () => {
  for (const v of vectors.filter((x) => x.error !== undefined)) {
    assert.match(v.error!, /TypeError/);
    const schedule = scheduleOf(v.event, v.lat, v.lon);
    const next = schedule.next(JUNE_21);
    assert.ok(next !== null && next > JUNE_21 + DAY, `${v.event} ${v.place}: a later day`);
    // No day between has the event: the run is the first day that has it.
    assert.equal(schedule.latest(JUNE_21, next - 1), null, `${v.event} ${v.place}`);
    assert.ok(scheduleDayNote(solar(v.event, v.lat, v.lon))?.includes('polar day or night'), v.event);
  }
  // Svalbard: the midnight sun ends late in August; the first sunset comes then.
  const sunset = scheduleOf('sunset', 78.22, 15.65).next(JUNE_21)!;
  assert.ok(sunset > Date.UTC(2026, 7, 20) && sunset < Date.UTC(2026, 7, 30), new Date(sunset).toISOString());
  // And in the polar night no sunrise until mid-February.
  const sunrise = scheduleOf('sunrise', 78.22, 15.65).next(Date.UTC(2026, 11, 1))!;
  assert.ok(
    sunrise > Date.UTC(2027, 1, 10) && sunrise < Date.UTC(2027, 1, 25),
    new Date(sunrise).toISOString(),
  );
  // At a pole the sun crosses each horizon once a year; solar_noon is daily everywhere.
  const pole = scheduleOf('dawn_civil', 90, 0);
  const first = pole.next(Date.UTC(2026, 0, 1))!;
  assert.ok(first !== null && pole.next(first)! - first > 300 * DAY);
  assert.ok(scheduleOf('solar_noon', -90, 0).next(JUNE_21)! - JUNE_21 < DAY);
});

test('a slot is the same instant whichever moment it is asked from, and never repeats', () => {
  const cases: [SolarEvent, number, number][] = [
    ['sunrise', 52.52, 13.405],
    ['dusk_nautical', -60, -45],
    ['solar_noon', 0, 179.9],
    ['dawn_civil', 78.22, 15.65],
    ['sunset', 35, -120],
  ];
  for (const [event, lat, lon] of cases) {
    const schedule = scheduleOf(event, lat, lon);
    const slot = schedule.next(Date.UTC(2026, 2, 1))!;
    const previous = schedule.latest(slot - 400 * DAY, slot - 1)!.slot;
    for (let from = previous; from < slot; from += Math.ceil((slot - previous) / 500) + 7) {
      const again = compileSchedule(solar(event, lat, lon), 'UTC').next(from);
      assert.equal(again, slot, `${event} ${lat}: from ${new Date(from).toISOString()}`);
    }
    const after = schedule.next(slot)!;
    assert.ok(after - slot > 20 * 3_600_000, `${event} ${lat}: the next is the next day`);
    assert.equal(slot % 1000, 0, 'whole seconds');
  }
});

test('latest() agrees with a walk, over days, months and years, with and without polar days', () => {
  const cases: [SolarEvent, number, number][] = [
    ['sunset', 52.52, 13.405],
    ['dawn_astronomical', 52.52, 13.405],
    ['sunrise', 78.22, 15.65],
    ['solar_noon', 78.22, 15.65],
    ['dusk_civil', -60, -45],
  ];
  const windows: [number, number][] = [
    [Date.UTC(2026, 5, 1, 7, 13), Date.UTC(2026, 5, 1, 23, 59)],
    [Date.UTC(2026, 5, 1), Date.UTC(2026, 5, 9, 12)],
    [Date.UTC(2026, 1, 1), Date.UTC(2026, 9, 1)],
    [Date.UTC(2025, 6, 1), Date.UTC(2027, 3, 1)],
  ];
  for (const [event, lat, lon] of cases) {
    const schedule = scheduleOf(event, lat, lon);
    for (const [after, atOrBefore] of windows) {
      const slots = walk(schedule, after, atOrBefore);
      const latest = schedule.latest(after, atOrBefore);
      const label = `${event} ${lat} ${new Date(after).toISOString()}..${new Date(atOrBefore).toISOString()}`;
      if (slots.length === 0) assert.equal(latest, null, label);
      else assert.deepEqual(latest, { slot: slots.at(-1), count: slots.length }, label);
    }
    // An edge on a slot: (slot, …] leaves it out, (…, slot] takes it in.
    const slot = schedule.next(Date.UTC(2026, 3, 1))!;
    assert.equal(schedule.latest(slot - DAY / 2, slot)?.slot, slot);
    assert.notEqual(schedule.latest(slot, slot + 1000)?.slot, slot);
  }
});

test('a new solar task starts from its first sighting, never before startTime; missed days count as missed', () => {
  const def = { schedule: solar('sunrise', 52.52, 13.405) } as TaskDefinition;
  const seen = Date.UTC(2026, 3, 1, 12);
  assert.equal(initialCursor(def, seen), seen);
  assert.equal(initialCursor({ ...def, startTime: seen + DAY }, seen), seen + DAY - 1);
  const schedule = compileSchedule(def.schedule, 'UTC');
  const plan = planSlots(schedule, seen, seen + 10 * DAY + 60_000);
  assert.equal(plan.missed, 9);
  assert.ok(plan.run !== null && plan.next !== null && plan.next - plan.run > 20 * 3_600_000);
});

test('the schedule in words, the polar note, and the daily crontab for readers of the documented kinds', () => {
  assert.equal(describeSchedule(solar('sunset', 52.52, 13.405), 'Europe/Berlin'), 'sunset at 52.52, 13.405');
  assert.equal(scheduleDayNote(solar('sunset', 52.52, 13.405)), null);
  assert.equal(scheduleDayNote(solar('solar_noon', 89, 0)), null);
  assert.equal(
    scheduleDayNote(solar('dawn_astronomical', 52.52, 13.405)),
    'at latitude 52.52 some days have no dawn_astronomical (polar day or night): those days have no run, and the next run is the next day with one.',
  );
  assert.ok(!happensEveryDay('sunrise', 66, 0) && happensEveryDay('sunrise', 65, 0));
  // Mean solar time at the equinox: noon at longitude 15°E is 11:00 UTC, a sunset at the equator about 18:04 local.
  assert.deepEqual(equinoxCrontab('solar_noon', 50, 15), {
    minute: '0',
    hour: '11',
    day_of_week: '*',
    day_of_month: '*',
    month_of_year: '*',
  });
  const sunset = equinoxCrontab('sunset', 0, 0);
  assert.deepEqual([sunset.hour, sunset.minute], ['18', '3']);
  const dawn = equinoxCrontab('dawn_civil', 0, -90);
  assert.deepEqual([dawn.hour, dawn.minute], ['11', '36']);
  // Where the sun does not reach the horizon at the equinox, the nearest approach: midnight for a dawn at the pole.
  assert.deepEqual([equinoxCrontab('dawn_astronomical', 90, 0).hour], ['0']);
});
