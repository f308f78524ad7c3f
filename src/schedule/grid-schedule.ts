// An interval as a member of several schedules (spec.schedules): a grid fixed in time, anchor + k·every for every
// integer k, as Temporal's intervals are. A lone interval's grid runs through the cursor (interval-schedule.ts);
// in a set the cursor is often another member's slot, which would shift that grid.
import type { Schedule } from './schedule.ts';

/** Microseconds of an instant given in milliseconds, snapped to the whole microsecond a float product misses. */
function microseconds(ms: number): number {
  const us = ms * 1000;
  const whole = Math.round(us);
  return Math.abs(us - whole) < 1e-3 ? whole : us;
}

export class GridSchedule implements Schedule {
  readonly everyUs: number;
  /** The grid's unit: milliseconds for a grid of whole milliseconds through one, else microseconds. */
  readonly #unit: number;
  readonly #every: number;
  readonly #anchor: number;

  /** `anchorMs`: one point of the grid (spec.startTime, else the Unix epoch). */
  constructor(everyUs: number, anchorMs: number) {
    if (!(everyUs >= 1000)) throw new RangeError(`a grid of ${everyUs} µs is shorter than 1 ms`);
    this.everyUs = everyUs;
    // Whole milliseconds are exact to 2^53 ms; microseconds only to 2^53 µs (the year 2255).
    const wholeMs = everyUs % 1000 === 0 && Number.isSafeInteger(anchorMs);
    this.#unit = wholeMs ? 1 : 1000;
    this.#every = wholeMs ? everyUs / 1000 : everyUs;
    this.#anchor = wholeMs ? anchorMs : microseconds(anchorMs);
  }

  /**
   * The index of the last grid point at or before `ms`. The first guess works in the grid's unit, where a slot
   * given back in milliseconds can read a fraction of a microsecond off its point; the guess is then settled
   * against the slots themselves, so next() of a slot is always the slot after it.
   */
  #index(ms: number): number {
    const at = this.#unit === 1 ? ms : microseconds(ms);
    let k = Math.floor((at - this.#anchor) / this.#every);
    while (this.#at(k + 1) <= ms) k++;
    while (this.#at(k) > ms) k--;
    return k;
  }

  #at(k: number): number {
    return (this.#anchor + k * this.#every) / this.#unit;
  }

  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) return null;
    return this.#at(this.#index(afterMs) + 1);
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    if (!Number.isFinite(afterMs) || !(atOrBeforeMs > afterMs)) return null;
    const last = this.#index(atOrBeforeMs);
    const count = last - this.#index(afterMs);
    return count >= 1 ? { slot: this.#at(last), count } : null;
  }
}
