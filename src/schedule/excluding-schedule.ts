// A schedule without its excluded slots (spec.exclude): an excluded slot is no slot at all, so it is neither run
// nor counted as missed, and next() passes over it.
import type { Exclusions } from './exclusions.ts';
import type { Schedule } from './schedule.ts';

/** Half a microsecond: slots are whole microseconds, so a bound this much earlier leaves out a slot on it. */
const HALF_US = 0.0005;
/**
 * Excluded runs passed in a row before next() gives up: exclusions that cover every slot (a daily task at 10:00
 * without the hour 10) leave a schedule with no slot, which must not be searched forever.
 */
const MAX_EXCLUDED_RUNS = 1000;
/** Slots of an excluded run next() steps over before it jumps to the run's end. */
const STEPS_BEFORE_JUMP = 8;
/** Slots in a window up to which latest() checks each slot rather than each excluded run. */
const WALK_LIMIT = 1000;

export class ExcludingSchedule implements Schedule {
  readonly #schedule: Schedule;
  readonly #exclusions: Exclusions;

  constructor(schedule: Schedule, exclusions: Exclusions) {
    this.#schedule = schedule;
    this.#exclusions = exclusions;
  }

  next(afterMs: number): number | null {
    const inner = this.#schedule;
    let slot = inner.next(afterMs);
    for (let runs = 0; slot !== null && runs < MAX_EXCLUDED_RUNS; runs++) {
      if (!this.#exclusions.excludes(slot)) return slot;
      // Every slot up to the run's end is excluded. A sparse schedule steps out of the run in a few slots; a
      // dense one jumps to the last of them (asked from a slot, an interval stays on its grid).
      const end = this.#exclusions.runEnd(slot);
      let next = inner.next(slot);
      for (let step = 0; next !== null && next < end && step < STEPS_BEFORE_JUMP; step++)
        next = inner.next(next);
      if (next !== null && next < end) next = inner.next(inner.latest(slot, end - HALF_US)?.slot ?? slot);
      slot = next;
    }
    return null;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    const inner = this.#schedule;
    const due = inner.latest(afterMs, atOrBeforeMs);
    if (!due) return null;
    // Few slots (a sparse schedule over a long window): each is checked. Counting per excluded run instead
    // would ask the schedule once per run, an hourly exclusion over a polar solar task's months of window.
    if (due.count <= WALK_LIMIT) return this.#walk(afterMs, atOrBeforeMs);
    // Counts from afterMs alone, so an interval's slots stay on the grid through afterMs.
    const upTo = (at: number): number => (at <= afterMs ? 0 : (inner.latest(afterMs, at)?.count ?? 0));
    const runs: { start: number; end: number }[] = [];
    let excluded = 0;
    for (let from = afterMs; ; ) {
      const start = this.#exclusions.nextExcluded(from);
      if (start === null || start > atOrBeforeMs) break;
      const end = this.#exclusions.runEnd(start);
      const slots = upTo(Math.min(end - HALF_US, atOrBeforeMs)) - upTo(start - HALF_US);
      if (slots > 0) {
        runs.push({ start, end });
        excluded += slots;
      }
      from = end;
    }
    const count = due.count - excluded;
    if (count <= 0) return null;
    let slot = due.slot;
    for (let i = runs.length - 1; i >= 0 && slot < runs[i]!.end; i--) {
      if (slot >= runs[i]!.start)
        slot = (inner.latest(afterMs, runs[i]!.start - HALF_US) as { slot: number }).slot;
    }
    return { slot, count };
  }

  #walk(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    let last: number | null = null;
    let count = 0;
    for (let slot = this.#schedule.next(afterMs); slot !== null && slot <= atOrBeforeMs; ) {
      if (!this.#exclusions.excludes(slot)) {
        last = slot;
        count += 1;
      }
      slot = this.#schedule.next(slot);
    }
    return last === null ? null : { slot: last, count };
  }
}
