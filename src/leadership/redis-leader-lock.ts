// Leader election through a Redis lock (standalone mode): SET NX PX with a random token, renewed well
// before it expires. The same token fences every dispatch (dispatch-slots.lua), so an old leader that was
// paused past its lock's expiry cannot publish when it wakes up.
import { randomUUID } from 'node:crypto';
import type { Leadership, LeadershipCallbacks } from '../contracts.ts';
import type { StoreRedis } from '../store/redis-connection.ts';
import type { ScriptedRedis } from '../store/scripts.ts';
import { withScripts } from '../store/scripts.ts';

/** The lock key of the operators sharing a key prefix; the store fences each dispatch by its holder. */
export function leaderLockKey(keyPrefix: string): string {
  return `celerybeat-operator:leader:${keyPrefix}`;
}

export interface RedisLeaderLockOptions {
  key: string;
  ttlMs?: number;
  /** How often the lock is renewed (or, by a standby, tried). */
  retryMs?: number;
}

export class RedisLeaderLock implements Leadership {
  readonly #redis: ScriptedRedis;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #token = randomUUID();
  #leading = false;
  #heldUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Ends leadership when the lock may expire, whether or not a renewal ever answers (a frozen link). */
  #expiry: NodeJS.Timeout | undefined;
  #stopped = false;
  #callbacks: LeadershipCallbacks | undefined;
  #confirming: Promise<void> | undefined;

  constructor(redis: StoreRedis, options: RedisLeaderLockOptions) {
    this.#redis = withScripts(redis);
    this.#key = options.key;
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.#retryMs = options.retryMs ?? Math.floor(this.#ttlMs / 5);
  }

  get token(): string {
    return this.#token;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  run(callbacks: LeadershipCallbacks): void {
    this.#callbacks = callbacks;
    void this.#attempt();
  }

  /** Re-checks at once; a lock that vanished (Redis restarted empty) is taken back if nobody else took it. */
  async confirm(): Promise<boolean> {
    clearTimeout(this.#timer);
    this.#confirming ??= this.#attempt().finally(() => {
      this.#confirming = undefined;
    });
    await this.#confirming;
    return this.#leading;
  }

  async #attempt(): Promise<void> {
    const callbacks = this.#callbacks;
    if (!callbacks || this.#stopped) return;
    const startedAt = Date.now();
    let held: boolean;
    try {
      held = (await this.#redis.cbAcquireLock(this.#key, this.#token, String(this.#ttlMs))) === 1;
      // A reply that took most of the lock's life proves too little time to lead on.
      if (held && Date.now() >= startedAt + this.#ttlMs - this.#retryMs) held = false;
      if (held) {
        this.#heldUntil = startedAt + this.#ttlMs;
        this.#armExpiry();
      }
    } catch (error) {
      callbacks.onError?.(error as Error);
      // Unreachable Redis: keep leading only while the lock we hold cannot have expired yet.
      held = this.#leading && Date.now() < this.#heldUntil - this.#retryMs;
    }
    if (this.#stopped) return;
    if (held && !this.#leading) {
      this.#leading = true;
      callbacks.onStartedLeading();
    } else if (!held && this.#leading) {
      this.#leading = false;
      callbacks.onStoppedLeading();
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#attempt(), this.#retryMs);
  }

  /** The lock is renewed by a timer; an unreachable Redis ends leadership by itself, so nothing gets stuck. */
  healthy(): true {
    return true;
  }

  #armExpiry(): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(
      () => {
        if (!this.#leading || this.#stopped) return;
        // A timer may fire a little early by the wall clock: look again rather than never.
        if (Date.now() < this.#heldUntil - this.#retryMs) return this.#armExpiry();
        this.#leading = false;
        this.#callbacks?.onStoppedLeading();
      },
      Math.max(0, this.#heldUntil - this.#retryMs - Date.now()),
    );
  }

  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#expiry);
    if (this.#leading) {
      this.#leading = false;
      await this.#redis.cbReleaseLock(this.#key, this.#token).catch(() => 0);
    }
  }
}
