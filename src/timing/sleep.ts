// Waiting without blocking, cut short by shutdown.

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
