// The product's one request timeout: a request without an answer in time is abandoned (not cancelled), so it
// is used for requests whose late answer does no harm (a merge patch, a read, a PING).

/**
 * Settles as `request` does, unless `ms` pass first (then rejects with `late()`) or `stop` aborts first (then
 * rejects with its reason). The global setTimeout, so that a test's simulated clock drives it too.
 */
export function withTimeout<T>(
  request: Promise<T>,
  ms: number,
  late: () => Error,
  stop?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onStop = (): void => reject(stop?.reason);
    const timer = setTimeout(() => reject(late()), Math.max(0, ms));
    if (stop?.aborted) onStop();
    stop?.addEventListener('abort', onStop, { once: true });
    request.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    });
  });
}
