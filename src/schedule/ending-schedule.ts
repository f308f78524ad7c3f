// A schedule cut off at an end (spec.endTime): the slots of the schedule it wraps up to and including the end.
import type { Schedule } from './schedule.ts';

export class EndingSchedule implements Schedule {
  readonly #schedule: Schedule;
  readonly #end: number;

  constructor(schedule: Schedule, end: number) {
    this.#schedule = schedule;
    this.#end = end;
  }

  next(afterMs: number): number | null {
    const slot = this.#schedule.next(afterMs);
    return slot !== null && slot <= this.#end ? slot : null;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    const to = Math.min(atOrBeforeMs, this.#end);
    return to > afterMs ? this.#schedule.latest(afterMs, to) : null;
  }
}
