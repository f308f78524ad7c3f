// The calendar side of a crontab: which wall-clock minutes match, found by jumping over months, days and hours
// (never minute by minute). Wall times are epoch milliseconds of the wall fields read as UTC.
import { utcTime } from './utc-time.ts';

const MINUTE_MS = 60_000;
const MINUTES_PER_DAY = 1440;
/** The Gregorian calendar repeats (weekdays and leap years) every 400 years: a pattern with no match there has none. */
const CYCLE_YEARS = 400;

/** Which wall-clock minutes a schedule matches; wall times are epoch ms of the wall fields read as UTC. */
export interface MinuteCalendar {
  matches(wall: number): boolean;
  /** The first matching wall minute >= wall, or null when there is none. */
  nextWall(wall: number): number | null;
  /** The last matching wall minute <= wall, or null when there is none. */
  prevWall(wall: number): number | null;
  /** How many matching wall minutes w satisfy lo < w <= hi. */
  countWalls(lo: number, hi: number): number;
}

export interface CrontabSets {
  minute: readonly number[];
  hour: readonly number[];
  dayOfWeek: readonly number[];
  dayOfMonth: readonly number[];
  monthOfYear: readonly number[];
}

function mask(values: readonly number[], size: number): boolean[] {
  const out = new Array<boolean>(size).fill(false);
  for (const v of values) out[v] = true;
  return out;
}

/** nextIndex[i] = the first set index >= i, or -1; one extra slot at the end for "past the last". */
function nextIndex(ok: readonly boolean[]): number[] {
  const out = new Array<number>(ok.length + 1).fill(-1);
  for (let i = ok.length - 1; i >= 0; i--) out[i] = ok[i] ? i : out[i + 1]!;
  return out;
}

function prevIndex(ok: readonly boolean[]): number[] {
  const out = new Array<number>(ok.length).fill(-1);
  for (let i = 0; i < ok.length; i++) out[i] = ok[i] ? i : i > 0 ? out[i - 1]! : -1;
  return out;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcTime(year, month, 0)).getUTCDate();
}

function weekday(year: number, month: number, day: number): number {
  const days = Math.floor(utcTime(year, month - 1, day) / 86_400_000);
  return (((days + 4) % 7) + 7) % 7;
}

/**
 * A day matches when its month matches and its day of month AND day of week do (Celery), or, with `eitherDay`,
 * when its day of month OR day of week does (standard cron with both day fields restricted).
 */
export class WallCalendar implements MinuteCalendar {
  private readonly eitherDay: boolean;
  private readonly minuteOk: boolean[];
  private readonly hourOk: boolean[];
  private readonly domOk: boolean[];
  private readonly dowOk: boolean[];
  private readonly monthOk: boolean[];
  private readonly nextMinute: number[];
  private readonly nextHour: number[];
  private readonly nextMonth: number[];
  private readonly nextDom: number[];
  private readonly prevMinute: number[];
  private readonly prevHour: number[];
  private readonly prevMonth: number[];
  /** minutesUpTo[m] = matching minutes <= m; hoursBefore[h] = matching hours < h. */
  private readonly minutesUpTo: number[];
  private readonly hoursBefore: number[];
  private readonly minuteCount: number;
  private readonly perDay: number;

  constructor(sets: CrontabSets, { eitherDay = false }: { eitherDay?: boolean } = {}) {
    this.eitherDay = eitherDay;
    this.minuteOk = mask(sets.minute, 60);
    this.hourOk = mask(sets.hour, 24);
    this.domOk = mask(sets.dayOfMonth, 32);
    this.dowOk = mask(sets.dayOfWeek, 7);
    this.monthOk = mask(sets.monthOfYear, 13);
    this.nextMinute = nextIndex(this.minuteOk);
    this.nextHour = nextIndex(this.hourOk);
    this.nextMonth = nextIndex(this.monthOk);
    this.nextDom = nextIndex(this.domOk);
    this.prevMinute = prevIndex(this.minuteOk);
    this.prevHour = prevIndex(this.hourOk);
    this.prevMonth = prevIndex(this.monthOk);
    this.minutesUpTo = [];
    let n = 0;
    for (let m = 0; m < 60; m++) {
      if (this.minuteOk[m]) n++;
      this.minutesUpTo.push(n);
    }
    this.hoursBefore = [];
    n = 0;
    for (let h = 0; h <= 24; h++) {
      this.hoursBefore.push(n);
      if (this.hourOk[h]) n++;
    }
    this.minuteCount = sets.minute.length;
    this.perDay = sets.minute.length * sets.hour.length;
  }

  matches(wall: number): boolean {
    const d = new Date(wall);
    return (
      this.minuteOk[d.getUTCMinutes()]! &&
      this.hourOk[d.getUTCHours()]! &&
      this.dayMatches(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())
    );
  }

  private dayMatches(y: number, mo: number, day: number): boolean {
    if (!this.monthOk[mo]) return false;
    if (this.eitherDay) return this.domOk[day]! || this.dowOk[weekday(y, mo, day)]!;
    return this.domOk[day]! && this.dowOk[weekday(y, mo, day)]!;
  }

  /** The first matching wall minute >= wall, or null when none within 400 years. */
  nextWall(wall: number): number | null {
    const d = new Date(Math.ceil(wall / MINUTE_MS) * MINUTE_MS);
    let y = d.getUTCFullYear();
    let mo = d.getUTCMonth() + 1;
    let day = d.getUTCDate();
    let h = d.getUTCHours();
    let mi = d.getUTCMinutes();
    const limit = y + CYCLE_YEARS;
    while (y <= limit) {
      if (!this.monthOk[mo]) {
        const m = this.nextMonth[mo + 1]!;
        if (m < 0) {
          y++;
          mo = this.nextMonth[1]!;
        } else mo = m;
        day = 1;
        h = 0;
        mi = 0;
        continue;
      }
      const dim = daysInMonth(y, mo);
      if (this.eitherDay) {
        if (day > dim) {
          day = 1;
          if (++mo > 12) {
            mo = 1;
            y++;
          }
          h = 0;
          mi = 0;
          continue;
        }
        if (!this.dayMatches(y, mo, day)) {
          day++;
          h = 0;
          mi = 0;
          continue;
        }
      } else {
        // Jump straight to the next allowed day of the month; then check its weekday.
        const nextDay = day <= dim ? this.nextDom[day]! : -1;
        if (nextDay < 0 || nextDay > dim) {
          day = 1;
          if (++mo > 12) {
            mo = 1;
            y++;
          }
          h = 0;
          mi = 0;
          continue;
        }
        if (nextDay !== day) {
          day = nextDay;
          h = 0;
          mi = 0;
        }
        if (!this.dowOk[weekday(y, mo, day)]) {
          day++;
          h = 0;
          mi = 0;
          continue;
        }
      }
      const hh = this.nextHour[h]!;
      if (hh < 0) {
        day++;
        h = 0;
        mi = 0;
        continue;
      }
      if (hh > h) {
        h = hh;
        mi = 0;
      }
      const mm = this.nextMinute[mi]!;
      if (mm < 0) {
        h++;
        mi = 0;
        continue;
      }
      return utcTime(y, mo - 1, day, h, mm);
    }
    return null;
  }

  /** The last matching wall minute <= wall, or null when none within 400 years. */
  prevWall(wall: number): number | null {
    const d = new Date(Math.floor(wall / MINUTE_MS) * MINUTE_MS);
    let y = d.getUTCFullYear();
    let mo = d.getUTCMonth() + 1;
    let day = d.getUTCDate();
    let h = d.getUTCHours();
    let mi = d.getUTCMinutes();
    const limit = y - CYCLE_YEARS;
    const toPreviousDay = (): void => {
      if (--day < 1) {
        if (--mo < 1) {
          mo = 12;
          y--;
        }
        day = daysInMonth(y, mo);
      }
      h = 23;
      mi = 59;
    };
    while (y >= limit) {
      if (!this.monthOk[mo]) {
        const m = this.prevMonth[mo - 1]!;
        if (m < 1) {
          y--;
          mo = this.prevMonth[12]!;
        } else mo = m;
        day = daysInMonth(y, mo);
        h = 23;
        mi = 59;
        continue;
      }
      if (!this.dayMatches(y, mo, day)) {
        toPreviousDay();
        continue;
      }
      const hh = this.prevHour[h]!;
      if (hh < 0) {
        toPreviousDay();
        continue;
      }
      if (hh < h) {
        h = hh;
        mi = 59;
      }
      const mm = this.prevMinute[mi]!;
      if (mm < 0) {
        if (h === 0) toPreviousDay();
        else {
          h--;
          mi = 59;
        }
        continue;
      }
      return utcTime(y, mo - 1, day, h, mm);
    }
    return null;
  }

  /** How many matching wall minutes w satisfy lo < w <= hi; walks days, not minutes. */
  countWalls(lo: number, hi: number): number {
    const loMinute = Math.floor(lo / MINUTE_MS);
    const hiMinute = Math.floor(hi / MINUTE_MS);
    if (hiMinute <= loMinute) return 0;
    const firstDay = Math.floor(loMinute / MINUTES_PER_DAY);
    const lastDay = Math.floor(hiMinute / MINUTES_PER_DAY);
    let count = 0;
    for (let dayIndex = firstDay; dayIndex <= lastDay; dayIndex++) {
      const d = new Date(dayIndex * 86_400_000);
      if (!this.dayMatches(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())) continue;
      const base = dayIndex * MINUTES_PER_DAY;
      const upper = dayIndex === lastDay ? this.upTo(hiMinute - base) : this.perDay;
      const lower = dayIndex === firstDay ? this.upTo(loMinute - base) : 0;
      count += upper - lower;
    }
    return count;
  }

  /** Matching (hour, minute) pairs at or before minute-of-day m. */
  private upTo(m: number): number {
    const h = Math.floor(m / 60);
    return this.hoursBefore[h]! * this.minuteCount + (this.hourOk[h] ? this.minutesUpTo[m % 60]! : 0);
  }
}
