// A clocked task: exactly one slot, at a fixed instant.
import type { Schedule } from './schedule.ts';

export class ClockedSchedule implements Schedule {
  readonly at: number;

  constructor(at: number) {
    this.at = at;
  }

  next(afterMs: number): number | null {
    return this.at > afterMs ? this.at : null;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    return this.at > afterMs && this.at <= atOrBeforeMs ? { slot: this.at, count: 1 } : null;
  }
}
