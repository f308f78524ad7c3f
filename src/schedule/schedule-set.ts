// Several schedules of one task (spec.schedules) as one: their slots merged in time order, an instant that two
// of them share being one slot (one run, one task id).
import type { Schedule } from './schedule.ts';

/** Half a microsecond: slots are whole microseconds, so asking from this much before a slot finds it. */
const HALF_US = 0.0005;

export interface SetMember {
  schedule: Schedule;
  /**
   * A grid (an interval, a cron @every): its slots are counted, never walked. The others (crontab, cron,
   * solar, clocked) have at most one slot a minute, and latest() walks them to find shared instants; the
   * validator allows one grid per set, so every shared instant has a walked member.
   */
  grid: boolean;
}

function holds(schedule: Schedule, slot: number): boolean {
  return schedule.next(slot - HALF_US) === slot;
}

export class ScheduleSet implements Schedule {
  readonly #members: readonly Schedule[];
  /** Indexes of the members that are not grids. */
  readonly #walked: readonly number[];

  constructor(members: readonly SetMember[]) {
    if (members.filter((m) => m.grid).length > 1)
      throw new RangeError('a schedule set holds at most one interval or @every');
    this.#members = members.map((m) => m.schedule);
    this.#walked = members.flatMap((m, i) => (m.grid ? [] : [i]));
  }

  next(afterMs: number): number | null {
    let best: number | null = null;
    for (const m of this.#members) {
      const slot = m.next(afterMs);
      if (slot !== null && (best === null || slot < best)) best = slot;
    }
    return best;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    let count = 0;
    let slot = Number.NEGATIVE_INFINITY;
    for (const m of this.#members) {
      const due = m.latest(afterMs, atOrBeforeMs);
      if (!due) continue;
      count += due.count;
      slot = Math.max(slot, due.slot);
    }
    if (count === 0) return null;
    if (this.#members.length > 1) count -= this.#shared(afterMs, atOrBeforeMs);
    return { slot, count };
  }

  /** Slots counted more than once above: each instant in the window that n members share, n − 1 times. */
  #shared(afterMs: number, atOrBeforeMs: number): number {
    let shared = 0;
    const members = this.#members;
    const walked = this.#walked;
    for (let i = 0; i < walked.length; i++) {
      const own = walked[i]!;
      const member = members[own]!;
      for (let s = member.next(afterMs); s !== null && s <= atOrBeforeMs; s = member.next(s)) {
        // Counted once, by the first walked member that holds it (two members may be one cached schedule).
        let first = true;
        for (let j = 0; j < i && first; j++) first = !holds(members[walked[j]!]!, s);
        if (!first) continue;
        for (let j = 0; j < members.length; j++) if (j !== own && holds(members[j]!, s)) shared++;
      }
    }
    return shared;
  }
}
