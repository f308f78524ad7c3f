// spec.exclude: the wall-clock minutes (in the task's zone) that hold no slot: whole dates, and the minutes a
// calendar of crontab fields matches (Celery's meaning: month, day of month AND day of week, hour, minute).
// Excluded minutes come in runs (a date, a weekend, a holiday season); a run is found by jumping over whole
// days and hours where the calendar allows, minute by minute only where it must.
import type { CrontabSets } from './wall-calendar.ts';
import { WallCalendar } from './wall-calendar.ts';
import type { Zone } from './zone.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The Gregorian calendar repeats every 400 years: a run longer than that covers every time. */
const CYCLE_MS = 146_097 * DAY_MS;
/** Steps (minutes, hours or days) one excluded run is followed before it is ended there. */
const MAX_RUN_STEPS = 10_080;

interface ExcludedCalendar {
  calendar: WallCalendar;
  everyMinute: boolean;
  everyHour: boolean;
}

/** Days since 1970-01-01 of a YYYY-MM-DD date (any year the schema allows). */
function dayNumber(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  const day = new Date(0);
  day.setUTCFullYear(y!, m! - 1, d!);
  return Math.floor(day.getTime() / DAY_MS);
}

function calendarOf(sets: CrontabSets): ExcludedCalendar {
  return {
    calendar: new WallCalendar(sets),
    everyMinute: sets.minute.length === 60,
    everyHour: sets.hour.length === 24,
  };
}

export class Exclusions {
  readonly #zone: Zone;
  /** Excluded dates as day numbers of the wall calendar, ascending. */
  readonly #days: readonly number[];
  readonly #calendars: readonly ExcludedCalendar[];

  /** `dates` as YYYY-MM-DD; `calendars` the value sets of crontab fields. */
  constructor(dates: readonly string[], calendars: readonly CrontabSets[], zone: Zone) {
    this.#zone = zone;
    this.#days = [...new Set(dates.map(dayNumber))].sort((a, b) => a - b);
    this.#calendars = calendars.map(calendarOf);
  }

  /** Whether the slot at `instant` is excluded. */
  excludes(instant: number): boolean {
    return this.#wallExcluded(floorMinute(this.#zone.wallOf(instant)));
  }

  /**
   * The end of the excluded run holding `instant` (which must be excluded): the first later instant whose wall
   * minute is not excluded, or an earlier change of the zone's offset (the run is then taken up again from it).
   * Every instant in [instant, end) is excluded.
   */
  runEnd(instant: number): number {
    const wall = this.#zone.wallOf(instant);
    const end = instant + (this.#wallRunEnd(floorMinute(wall)) - wall);
    const change = this.#zone.transitionsBetween(instant, end)[0];
    return change === undefined ? end : change.at;
  }

  /** The first instant at or after `from` that is excluded, or null when there is none within 400 years. */
  nextExcluded(from: number): number | null {
    let at = from;
    for (;;) {
      const wall = this.#zone.wallOf(at);
      const excludedWall = this.#nextExcludedWall(floorMinute(wall));
      if (excludedWall === null) return null;
      if (excludedWall <= wall) return at;
      const candidate = at + (excludedWall - wall);
      // Where the offset changes first, the wall clock jumps: look again from there.
      const change = this.#zone.transitionsBetween(at, candidate)[0];
      if (change === undefined) return candidate;
      at = change.at;
    }
  }

  #hasDay(day: number): boolean {
    let lo = 0;
    let hi = this.#days.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const value = this.#days[mid]!;
      if (value === day) return true;
      if (value < day) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  #wallExcluded(wallMinute: number): boolean {
    if (this.#hasDay(Math.floor(wallMinute / DAY_MS))) return true;
    return this.#calendars.some((c) => c.calendar.matches(wallMinute));
  }

  /** The first wall minute at or after `wallMinute` that is not excluded. */
  #wallRunEnd(wallMinute: number): number {
    let wall = wallMinute;
    for (let steps = 0; ; steps++) {
      // Calendars that only together cover every minute are walked a minute at a time: a run is ended early
      // (every minute before it is excluded all the same), so that one call never walks for long.
      if (wall - wallMinute > CYCLE_MS || steps > MAX_RUN_STEPS) return wall;
      if (this.#hasDay(Math.floor(wall / DAY_MS))) {
        wall = (Math.floor(wall / DAY_MS) + 1) * DAY_MS;
        continue;
      }
      const c = this.#calendars.find((x) => x.calendar.matches(wall));
      if (c === undefined) return wall;
      // A matching minute in a calendar of every minute (and every hour) is a matching hour (and day).
      if (c.everyMinute && c.everyHour) wall = (Math.floor(wall / DAY_MS) + 1) * DAY_MS;
      else if (c.everyMinute) wall = (Math.floor(wall / HOUR_MS) + 1) * HOUR_MS;
      else wall += MINUTE_MS;
    }
  }

  /** The first excluded wall minute at or after `wallMinute`, or null. */
  #nextExcludedWall(wallMinute: number): number | null {
    let best: number | null = null;
    const today = Math.floor(wallMinute / DAY_MS);
    const i = this.#firstDayFrom(today);
    if (i < this.#days.length) best = Math.max(wallMinute, this.#days[i]! * DAY_MS);
    for (const c of this.#calendars) {
      const wall = c.calendar.nextWall(wallMinute);
      if (wall !== null && (best === null || wall < best)) best = wall;
    }
    return best;
  }

  /** The index of the first excluded date on or after `day`. */
  #firstDayFrom(day: number): number {
    let lo = 0;
    let hi = this.#days.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#days[mid]! < day) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function floorMinute(wall: number): number {
  return Math.floor(wall / MINUTE_MS) * MINUTE_MS;
}
