// Each namespace's run rate limit (the maxRunsPerSecond of the PeriodicTaskPolicies that select it): a token
// bucket per limited namespace, with a second's worth of burst. A due run of a namespace out of tokens waits
// for its next token in the due queue, so it never holds back another namespace's runs.
import { TokenBucket } from '../timing/token-bucket.ts';

export class NamespaceRates {
  readonly #limitOf: (namespace: string) => number | undefined;
  readonly #buckets = new Map<string, { rate: number; bucket: TokenBucket }>();

  constructor(limitOf: (namespace: string) => number | undefined) {
    this.#limitOf = limitOf;
  }

  /** How long a run of the namespace must wait for its turn (0: it may go now). */
  wait(namespace: string, now: number): number {
    return this.#bucketOf(namespace, now)?.msUntilToken(now) ?? 0;
  }

  /** A run of the namespace is going out: it uses a token. */
  take(namespace: string, now: number): void {
    this.#bucketOf(namespace, now)?.take(now);
  }

  #bucketOf(namespace: string, now: number): TokenBucket | undefined {
    const rate = this.#limitOf(namespace);
    if (rate === undefined) {
      this.#buckets.delete(namespace);
      return undefined;
    }
    const held = this.#buckets.get(namespace);
    // A changed limit starts a bucket of its own (full: the policy edit is not a burst of its own).
    if (held?.rate === rate) return held.bucket;
    const bucket = new TokenBucket(rate, Math.max(1, rate), now);
    this.#buckets.set(namespace, { rate, bucket });
    return bucket;
  }
}
