// Per-key retries with exponential backoff, as controller-runtime's rate-limited work queue: a task that keeps
// failing is retried alone, later each time, and a success forgets it. One timer for all keys.

export interface RetryQueueOptions {
  /** Called with the keys whose retry is due (each key at most once per call). */
  onDue: (keys: string[]) => void;
  baseMs?: number;
  maxMs?: number;
  clock?: () => number;
}

export class RetryQueue {
  readonly #o: Required<RetryQueueOptions>;
  readonly #attempts = new Map<string, number>();
  readonly #due = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: RetryQueueOptions) {
    this.#o = { baseMs: 500, maxMs: 30_000, clock: Date.now, ...options };
  }

  /** Keys waiting for a retry. */
  get size(): number {
    return this.#due.size;
  }

  /** Whether `key` is waiting for its retry to come due (a key handed to onDue no longer is). */
  isWaiting(key: string): boolean {
    return this.#due.has(key);
  }

  /**
   * Schedules `key` again: 1×, 2×, 4×… the base delay, up to the maximum, counting its failures. Returns the
   * delay in ms, for the caller's log.
   */
  retryLater(key: string): number {
    const attempts = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempts);
    const delay = Math.min(this.#o.baseMs * 2 ** (attempts - 1), this.#o.maxMs);
    this.#due.set(key, this.#o.clock() + delay);
    this.#arm();
    return delay;
  }

  /** The key succeeded (or is gone): its backoff starts over next time. */
  forget(key: string): void {
    this.#attempts.delete(key);
    this.#due.delete(key);
    // Nothing left to wait for: no timer should keep the process (or a test) busy.
    if (this.#due.size === 0) {
      clearTimeout(this.#timer);
      this.#timerAt = Number.POSITIVE_INFINITY;
    }
  }

  clear(): void {
    this.#attempts.clear();
    this.#due.clear();
    clearTimeout(this.#timer);
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const at of this.#due.values()) earliest = Math.min(earliest, at);
    if (earliest === Number.POSITIVE_INFINITY || earliest >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = earliest;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, earliest - this.#o.clock()));
  }

  #fire(): void {
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#o.clock();
    const keys: string[] = [];
    for (const [key, at] of this.#due) {
      if (at > now) continue;
      this.#due.delete(key);
      keys.push(key);
    }
    this.#arm();
    if (keys.length > 0) this.#o.onDue(keys);
  }
}
