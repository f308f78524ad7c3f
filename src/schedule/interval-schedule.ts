// An interval on a fixed grid. The grid runs through the instant it is asked about: next(slot) is slot + every,
// so a caller that passes the cursor (the last slot accounted for) walks the grid without drift.
import type { IntervalPeriod } from '../api/types.ts';
import type { Schedule } from './schedule.ts';

/** Length of one period in microseconds (exact integers, so microsecond periods add up without rounding). */
export const PERIOD_MICROSECONDS: Readonly<Record<IntervalPeriod, number>> = {
  days: 86_400_000_000,
  hours: 3_600_000_000,
  minutes: 60_000_000,
  seconds: 1_000_000,
  microseconds: 1,
};

export class IntervalSchedule implements Schedule {
  /** The interval in microseconds. */
  readonly everyUs: number;

  constructor(every: number, period: IntervalPeriod) {
    this.everyUs = every * PERIOD_MICROSECONDS[period];
    if (!(this.everyUs >= 1000)) throw new RangeError(`interval of ${every} ${period} is shorter than 1 ms`);
  }

  /** Milliseconds, possibly fractional for microsecond intervals. */
  get everyMs(): number {
    return this.everyUs / 1000;
  }

  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) return null;
    if (this.#wholeMs(afterMs)) return afterMs + this.everyUs / 1000;
    return (Math.round(afterMs * 1000) + this.everyUs) / 1000;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    if (this.#wholeMs(afterMs)) {
      const everyMs = this.everyUs / 1000;
      const count = Math.floor((atOrBeforeMs - afterMs) / everyMs);
      if (!(count >= 1)) return null;
      return { slot: afterMs + count * everyMs, count };
    }
    const from = Math.round(afterMs * 1000);
    const count = Math.floor((Math.round(atOrBeforeMs * 1000) - from) / this.everyUs);
    if (!(count >= 1)) return null;
    return { slot: (from + count * this.everyUs) / 1000, count };
  }

  /**
   * A grid of whole milliseconds through a whole millisecond is computed in milliseconds: exact to 2^53 ms,
   * where microseconds stop being exact after 2^53 µs (the year 2255).
   */
  #wholeMs(afterMs: number): boolean {
    return this.everyUs % 1000 === 0 && Number.isSafeInteger(afterMs);
  }
}
