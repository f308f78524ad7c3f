// The cluster benchmark's account of each task's first run. Each task is planned a first slot (its startTime);
// a task whose Redis key appears only after that slot (the apply, the API server or the operator slower than
// planned) runs first at its next slot, up to an hour later. Such a task is counted as awaited until that
// slot has passed by a grace, rather than waited for: the load phase then ends when every task has been sent
// or is awaited this way, and a task that misses the slot its key allowed still stalls the count. Their
// statuses are not waited for either: a late task sent near the end shows its run only a status lag later.
import type { Redis } from 'ioredis';

/** Time the operator may take past a slot before its run counts as missing. */
const LATE_GRACE_MS = 60_000;

interface Plan {
  slot: number;
  everyMs: number;
}

export interface FirstRunCounts {
  /** Tasks whose key was first seen after their planned slot. */
  late: number;
  /** Late tasks not sent yet whose next slot (after their key appeared), plus the grace, is still ahead. */
  awaited: number;
  /** Late tasks sent (at a slot after the planned one). */
  lateSent: number;
}

export class FirstRunLedger {
  readonly #plans = new Map<string, Plan>();
  /** Late tasks by name: the latest moment their first run may come. */
  readonly #lateUntil = new Map<string, number>();
  #lastPlanned = 0;

  plan(name: string, slot: number, everyMs: number): void {
    this.#plans.set(name, { slot, everyMs });
    this.#lastPlanned = Math.max(this.#lastPlanned, slot);
  }

  /** The latest planned first slot. */
  get lastPlanned(): number {
    return this.#lastPlanned;
  }

  /** Task `name`'s key is in Redis by `at` (and was not at the scan before). */
  keySeen(name: string, at: number): void {
    const plan = this.#plans.get(name);
    if (!plan || at <= plan.slot) return;
    const next = plan.slot + Math.ceil((at - plan.slot) / plan.everyMs) * plan.everyMs;
    this.#lateUntil.set(name, next + LATE_GRACE_MS);
  }

  /** Sent tasks whose first message was for their planned slot. */
  onPlanned(sent: ReadonlyMap<string, { slot: number }>): number {
    let count = 0;
    for (const [name, first] of sent) if (this.#plans.get(name)?.slot === first.slot) count += 1;
    return count;
  }

  /** Late tasks of which `ran` does not hold: their status shows a run only after their later first run. */
  lateWithout(ran: (name: string) => boolean): number {
    let count = 0;
    for (const name of this.#lateUntil.keys()) if (!ran(name)) count += 1;
    return count;
  }

  counts(sent: ReadonlyMap<string, unknown>, now: number): FirstRunCounts {
    let awaited = 0;
    let lateSent = 0;
    for (const [name, until] of this.#lateUntil) {
      if (sent.has(name)) lateSent += 1;
      else if (now <= until) awaited += 1;
    }
    return { late: this.#lateUntil.size, awaited, lateSent };
  }
}

/**
 * The benchmark's task keys in Redis: each scan notes the keys it sees for the first time (as seen by the
 * scan's end) in the ledger; the number of keys seen so far.
 */
export class KeyArrivals {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ledger: FirstRunLedger;
  readonly #seen = new Set<string>();

  constructor(redis: Redis, prefix: string, ledger: FirstRunLedger) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ledger = ledger;
  }

  async scan(): Promise<number> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}*`, 'COUNT', 5000);
      for (const key of keys) if (!this.#seen.has(key)) found.push(key);
      cursor = next;
    } while (cursor !== '0');
    const at = Date.now();
    for (const key of found) {
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.#ledger.keySeen(key.slice(this.#prefix.length), at);
    }
    return this.#seen.size;
  }
}
