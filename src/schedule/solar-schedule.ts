// A solar task: the instants of one of Celery's solar events at a place, found by astronomy-engine.
// Time is cut into windows of one mean solar day, placed so that the event of a day lies well inside its window
// (risings between local midnight and noon, settings between noon and midnight, the transit at noon): each
// window holds the event at most once, and the event of a window is searched from the window's start, so a
// slot is the same instant whichever moment it is asked from (two replicas, and the cursor itself, agree).
// A window without the event (polar day or night) has no slot: the next one is the next day that has it.
import { createRequire } from 'node:module';
import type { SolarEvent } from '../api/types.ts';
import type { Schedule } from './schedule.ts';
import {
  centerAltitude,
  crossingSlack,
  happensEveryDay,
  SOLAR_CROSSINGS,
  type SolarCrossing,
} from './solar-events.ts';

type Astronomy = typeof import('astronomy-engine');

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Windows searched before giving up: at a pole an event can be a year away. */
const MAX_WINDOWS = 2 * 366;
/** Degrees kept clear of the day's extreme altitudes before a day counts as surely with, or without, the event. */
const MARGIN = 1;
/** The sun's declination changes by less than this many degrees a day. */
const DECLINATION_PER_DAY = 0.42;
/** Remembered events per schedule, before they are dropped to start over. */
const MEMO_LIMIT = 4096;

const require = createRequire(import.meta.url);
let library: Astronomy | undefined;

/** astronomy-engine, loaded when the first solar schedule is compiled: a process without one does not need it. */
function astronomy(): Astronomy {
  library ??= require('astronomy-engine') as Astronomy;
  return library;
}

export class SolarSchedule implements Schedule {
  readonly #crossing: SolarCrossing;
  readonly #latitude: number;
  /** Where window 0 starts, epoch ms: window k is [start + k·DAY, start + (k+1)·DAY). */
  readonly #start: number;
  readonly #everyDay: boolean;
  readonly #observer: InstanceType<Astronomy['Observer']>;
  readonly #memo = new Map<number, number | null>();

  constructor(event: SolarEvent, latitude: number, longitude: number) {
    this.#crossing = SOLAR_CROSSINGS[event];
    this.#latitude = latitude;
    this.#everyDay = happensEveryDay(event, latitude, MARGIN);
    this.#observer = new (astronomy().Observer)(latitude, longitude, 0);
    // Local mean midnight of day 0 is 00:00 UTC moved 4 minutes earlier per degree east; a rising is searched
    // from 18:00 the evening before, a setting from 06:00, the transit from midnight.
    const localMidnight = -(longitude / 360) * DAY_MS;
    const shift = this.#crossing.kind === 'transit' ? 0 : -this.#crossing.direction * 6 * HOUR_MS;
    this.#start = localMidnight + shift;
  }

  next(afterMs: number): number | null {
    const first = this.#windowOf(afterMs);
    for (let k = first; k < first + MAX_WINDOWS; ) {
      const none = this.#surelyNone(k);
      if (none > 0) {
        k += none;
        continue;
      }
      const at = this.#eventIn(k);
      if (at !== null && at > afterMs) return at;
      k++;
    }
    return null;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    if (atOrBeforeMs <= afterMs) return null;
    const low = this.#windowOf(afterMs);
    let last: { k: number; at: number } | null = null;
    for (let k = this.#windowOf(atOrBeforeMs); k >= low; ) {
      const none = this.#surelyNone(k);
      if (none > 0) {
        k -= none;
        continue;
      }
      const at = this.#eventIn(k);
      if (at === null || at > atOrBeforeMs) {
        k--;
        continue;
      }
      if (at > afterMs) last = { k, at };
      break;
    }
    if (last === null) return null;
    const firstAt = this.#eventIn(low);
    const first = firstAt !== null && firstAt > afterMs ? low : low + 1;
    return { slot: last.at, count: this.#windowsWithEvent(first, last.k) };
  }

  /** How many windows in [from, to] hold the event, without a search where the declination tells. */
  #windowsWithEvent(from: number, to: number): number {
    if (this.#everyDay) return to - from + 1;
    let count = 0;
    for (let k = from; k <= to; ) {
      const slack = this.#slack(k);
      const sure = this.#sureWindows(slack);
      if (sure > 0) {
        const n = Math.min(sure, to - k + 1);
        if (slack > 0) count += n;
        k += n;
      } else {
        if (this.#eventIn(k) !== null) count++;
        k++;
      }
    }
    return count;
  }

  #windowOf(at: number): number {
    return Math.floor((at - this.#start) / DAY_MS);
  }

  /** The event in window k, to the whole second, or null when that day has none. */
  #eventIn(k: number): number | null {
    const known = this.#memo.get(k);
    if (known !== undefined) return known;
    const from = this.#start + k * DAY_MS;
    const found = this.#surelyNone(k) > 0 ? null : this.#search(from);
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
    this.#memo.set(k, found);
    return found;
  }

  #search(from: number): number | null {
    const a = astronomy();
    const crossing = this.#crossing;
    const start = new Date(from);
    let time: { date: Date } | null;
    if (crossing.kind === 'transit') time = a.SearchHourAngle(a.Body.Sun, this.#observer, 0, start, 1).time;
    else if (crossing.kind === 'limb')
      time = a.SearchRiseSet(a.Body.Sun, this.#observer, crossing.direction, start, 1);
    else time = a.SearchAltitude(a.Body.Sun, this.#observer, crossing.direction, start, 1, crossing.altitude);
    if (time === null) return null;
    const at = Math.round(time.date.getTime() / 1000) * 1000;
    return at >= from && at < from + DAY_MS ? at : null;
  }

  /**
   * Degrees by which the sun of window k clears the event's altitude (from its declination at the window's
   * middle): positive when it crosses it with that much to spare, negative when it stays that far above or below.
   */
  #slack(k: number): number {
    const a = astronomy();
    const middle = new Date(this.#start + k * DAY_MS + DAY_MS / 2);
    const declination = a.Equator(a.Body.Sun, middle, this.#observer, true, true).dec;
    return crossingSlack(this.#latitude, declination, centerAltitude(this.#crossing));
  }

  /**
   * How many windows from one of this slack surely keep its answer: the slack changes by at most the
   * declination's daily change, and within MARGIN of zero only a search tells.
   */
  #sureWindows(slack: number): number {
    return Math.abs(slack) <= MARGIN ? 0 : 1 + Math.floor((Math.abs(slack) - MARGIN) / DECLINATION_PER_DAY);
  }

  /**
   * How many windows from k, onward or back, surely have no event: 0 unless the declination says so (never for
   * an event that happens every day).
   */
  #surelyNone(k: number): number {
    if (this.#everyDay) return 0;
    const slack = this.#slack(k);
    return slack < 0 ? this.#sureWindows(slack) : 0;
  }
}
