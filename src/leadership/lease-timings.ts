// client-go's leader-election timings and their rules; pure, so the command line can check them without
// loading the Kubernetes client.

export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: LeaseTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor: waits between acquire attempts are retryPeriod × [1, 2.2). */
export const JITTER_FACTOR = 1.2;

/** client-go's wait.Jitter: a duration in [d, d × (1 + factor)). */
export function jitter(durationMs: number, factor: number, random: () => number = Math.random): number {
  return durationMs + random() * factor * durationMs;
}

/** client-go's validation: leaseDuration > renewDeadline > JitterFactor × retryPeriod > 0. */
export function validateTimings(timings: LeaseTimings): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timings;
  if (!(retryPeriodMs > 0))
    throw new Error(`leader election retry period must be > 0 (got ${retryPeriodMs} ms)`);
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new Error(
      `leader election lease duration (${leaseDurationMs} ms) must be greater than the renew deadline (${renewDeadlineMs} ms)`,
    );
  }
  if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
    throw new Error(
      `leader election renew deadline (${renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × retry period (${retryPeriodMs} ms)`,
    );
  }
}
