// A keyed, rate-limited work queue in the shape of controller-runtime's: keys are added now, after a delay,
// or after their own backoff; a key handed out is being processed until done(), and is never handed out twice
// at once (added meanwhile, it comes again after done). Delayed keys wait in a heap under one timer.
import { type BackoffPolicy, KeyedBackoff } from './backoff.ts';
import { KeyedHeap } from './keyed-heap.ts';

export interface WorkQueueOptions {
  /** Backoff of addRateLimited, per key. */
  backoff: BackoffPolicy;
  /** Called when a key becomes ready to be taken with get() (synchronously, from the call that made it so). */
  onReady: () => void;
  /** The jitter's source (tests fix it; 1 gives the unjittered delay). */
  random?: () => number;
  /** What decides that a delayed key is due; the timer is the global setTimeout. */
  clock?: () => number;
}

export class WorkQueue<K> {
  readonly #onReady: () => void;
  readonly #clock: () => number;
  readonly #backoff: KeyedBackoff<K>;
  /** Ready keys in the order they became ready, from #head on. */
  #ready: K[] = [];
  #head = 0;
  /** Keys to hand out: ready ones, and those added while being processed (ready again at done). */
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #waiting = new KeyedHeap<K>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(options: WorkQueueOptions) {
    this.#onReady = options.onReady;
    this.#clock = options.clock ?? Date.now;
    this.#backoff = new KeyedBackoff(options.backoff, options.random);
  }

  /** Keys ready to be taken now. */
  get length(): number {
    return this.#ready.length - this.#head;
  }

  /** Whether `key` waits for a delay (addAfter, addRateLimited) to pass. */
  isWaiting(key: K): boolean {
    return this.#waiting.has(key);
  }

  /** Ready now. A key already ready stays where it is; one being processed comes again after done(). */
  add(key: K): void {
    this.#waiting.delete(key);
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#ready.push(key);
    this.#onReady();
  }

  /** Ready after `delayMs`; a key already waiting keeps the earlier of its two times. */
  addAfter(key: K, delayMs: number): void {
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock() + delayMs;
    const waiting = this.#waiting.at(key);
    if (waiting !== undefined && waiting <= at) return;
    this.#waiting.set(key, at);
    this.#arm();
  }

  /** Ready after the key's own backoff, which grows with each call until forget(); returns the delay in ms. */
  addRateLimited(key: K): number {
    const delay = this.#backoff.when(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Times addRateLimited was called for `key` since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#backoff.failures(key);
  }

  /** The key succeeded (or is gone): its backoff starts over, and a delayed add of it no longer comes. */
  forget(key: K): void {
    this.#backoff.forget(key);
    if (this.#waiting.delete(key) && this.#waiting.size === 0) this.#disarm();
  }

  /** The next ready key, now being processed until done(); undefined when none is ready. */
  get(): K | undefined {
    if (this.#head === this.#ready.length) return undefined;
    const key = this.#ready[this.#head] as K;
    this.#head += 1;
    // Taken keys are dropped in bulk, so a long-lived queue neither shifts nor grows.
    if (this.#head === this.#ready.length || this.#head > 1024) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }

  /** Processing of `key` ended; if it was added meanwhile it is ready again. */
  done(key: K): void {
    if (!this.#processing.delete(key) || !this.#dirty.has(key)) return;
    this.#ready.push(key);
    this.#onReady();
  }

  /** Drops every key, waiting, ready or counted; keys being processed stay so until done(). */
  clear(): void {
    this.#ready = [];
    this.#head = 0;
    this.#dirty.clear();
    this.#waiting.clear();
    this.#backoff.clear();
    this.#disarm();
  }

  #arm(): void {
    const next = this.#waiting.peek();
    if (next === undefined || next.at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next.at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next.at - this.#clock()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#clock();
    for (let next = this.#waiting.peek(); next !== undefined && next.at <= now; next = this.#waiting.peek()) {
      this.add(next.key);
    }
    this.#arm();
  }
}
