// The product's one backoff formula, and the per-key failure count that feeds it (controller-runtime's
// per-item exponential failure rate limiter, with jitter).

export interface BackoffPolicy {
  /** The wait before the first retry (before jitter). */
  initialMs: number;
  /** The longest wait. */
  maxMs: number;
}

/**
 * The wait before retry number `attempt` (1-based): exponential from initialMs, capped at maxMs, then scaled
 * into [50 %, 100 %] so that many keys, or many replicas restarted together, do not retry in lockstep.
 * `random` returning 1 gives the unjittered delay.
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

/** Failures counted per key: each key backs off on its own, and forgetting it starts it over. */
export class KeyedBackoff<K> {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  readonly #failures = new Map<K, number>();

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    if (!(policy.initialMs > 0) || !(policy.maxMs >= policy.initialMs)) {
      throw new Error(
        `invalid backoff: initialMs must be > 0 and maxMs >= initialMs (got ${policy.initialMs}, ${policy.maxMs})`,
      );
    }
    this.#policy = policy;
    this.#random = random;
  }

  /** Counts a failure of `key` and returns how long to wait before trying it again. */
  when(key: K): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    return backoffDelay(failures, this.#policy, this.#random);
  }

  /** Failures of `key` since it was last forgotten. */
  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  clear(): void {
    this.#failures.clear();
  }

  /** The longest wait this backoff gives. */
  get maxMs(): number {
    return this.#policy.maxMs;
  }
}
