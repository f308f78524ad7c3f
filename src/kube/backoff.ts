// Retry timing of the watch and the leader elector (the status writer retries through RetryQueue), and sleep.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * The wait before retry number `attempt` (1-based): exponential from initialMs, capped at maxMs, then
 * scaled into [50 %, 100 %] so that many replicas restarted together do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped * (0.5 + random() / 2));
}

/** client-go's wait.Jitter: a duration in [d, d × (1 + factor)). */
export function jitter(durationMs: number, factor: number, random: () => number = Math.random): number {
  return durationMs + random() * factor * durationMs;
}

/**
 * Sleeps, returning early (without throwing) when the signal aborts. The global setTimeout, so that a test's
 * simulated clock drives it too.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
