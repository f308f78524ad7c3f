// A CronJob's `@every <duration>`: robfig/cron's constant delay, at least a second and in whole seconds, counted
// from the whole second at or before the instant asked about (the cursor), so slots fall on whole seconds.
import type { Schedule } from './schedule.ts';

export class EverySchedule implements Schedule {
  readonly everyMs: number;

  constructor(seconds: number) {
    this.everyMs = seconds * 1000;
  }

  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) return null;
    return Math.floor(afterMs / 1000) * 1000 + this.everyMs;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    const from = Math.floor(afterMs / 1000) * 1000;
    const count = Math.floor((atOrBeforeMs - from) / this.everyMs);
    if (!(count >= 1)) return null;
    return { slot: from + count * this.everyMs, count };
  }
}
