// A simulated clock over node:test's mock timers: setTimeout, setInterval and Date are mocked; setImmediate is
// not, so settle() can let promise chains run between ticks.
import { mock } from 'node:test';

/** Lets pending promise continuations (and the I/O-free work they start) run to completion. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise(setImmediate);
}

export interface SimulatedClock {
  now(): number;
  /** Moves time forward by `ms` in steps of `stepMs`, settling promises after each step. */
  advance(ms: number, stepMs?: number): Promise<void>;
  /** Advances step by step until `check` holds, failing after `limitMs` of simulated time. */
  advanceUntil(what: string, check: () => boolean, limitMs: number, stepMs?: number): Promise<void>;
  /** Moves wall time forward without running timers meanwhile (a suspended VM); overdue ones run at the next tick. */
  jump(ms: number): void;
  reset(): void;
}

export function simulatedClock(startMs = Date.UTC(2030, 0, 1)): SimulatedClock {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: startMs });
  const now = (): number => Date.now();
  const advance = async (ms: number, stepMs = 10): Promise<void> => {
    await settle();
    for (let done = 0; done < ms; ) {
      const step = Math.min(stepMs, ms - done);
      mock.timers.tick(step);
      done += step;
      await settle();
    }
  };
  return {
    now,
    advance,
    async advanceUntil(what, check, limitMs, stepMs = 10) {
      await settle();
      for (let done = 0; !check(); done += stepMs) {
        if (done >= limitMs) throw new Error(`${what}: not reached within ${limitMs} ms of simulated time`);
        await advance(stepMs, stepMs);
      }
    },
    jump: (ms) => mock.timers.setTime(Date.now() + ms),
    reset: () => mock.timers.reset(),
  };
}
