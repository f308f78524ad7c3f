// Rate limit for API writes, as client-go's flowcontrol token bucket: `burst` requests at once, then `qps`.

export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(qps: number, burst: number, now: number = Date.now()) {
    if (!(qps > 0) || !(burst >= 1)) {
      throw new Error(`invalid rate limit: qps must be > 0 and burst >= 1 (got qps=${qps}, burst=${burst})`);
    }
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** How many ms until a token is available (0: one is now), taking nothing. */
  msUntilToken(now: number = Date.now()): number {
    const tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#qps);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.#qps) * 1000);
  }

  /** Takes a token and returns 0, or returns how many ms to wait before one is available (taking nothing). */
  take(now: number = Date.now()): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#qps);
    this.#updatedAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#qps) * 1000);
  }
}
