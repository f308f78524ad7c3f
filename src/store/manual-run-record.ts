// What the operator records of a task besides its run state, for run-now and backfill: which manual runs
// were claimed (so a token or a backfilled slot runs once, from any replica; written by the store's dispatch
// script, field `claim:<identity>`, value "publishing:<ms>", "sent" or "unknown"), when the task was first seen,
// and the slot ranges it accounted for without running them (missed, skipped, paused): a hash and a sorted
// set per task, `celerybeat-operator:manual:` and `celerybeat-operator:unrun:` + the task's Redis key, outside
// the prefix (celerybeat-redis readers load every key under it) and, in a Redis Cluster, in its hash slot.
import type { Cluster, Redis } from 'ioredis';
import type { ManualRunRecord, SlotRange } from '../contracts.ts';

export function manualRunKey(redisKey: string): string {
  return `celerybeat-operator:manual:${redisKey}`;
}

/** The field of a manual run's claim; prefixed, since the record also holds `first`. */
export function manualClaimField(claim: string): string {
  return `claim:${claim}`;
}

function unrunKey(redisKey: string): string {
  return `celerybeat-operator:unrun:${redisKey}`;
}

/** The stretches kept per task: backfill looks back over the latest of them. */
const MAX_UNRUN_RANGES = 1000;

export class RedisManualRunRecord implements ManualRunRecord {
  readonly #redis: Redis | Cluster;
  readonly #redisKey: (taskKey: string) => string;

  constructor(redis: Redis | Cluster, redisKey: (taskKey: string) => string) {
    this.#redis = redis;
    this.#redisKey = redisKey;
  }

  #key(taskKey: string): string {
    return manualRunKey(this.#redisKey(taskKey));
  }

  async firstSeen(taskKey: string, cursor: number): Promise<number> {
    const key = this.#key(taskKey);
    await this.#redis.hsetnx(key, 'first', String(cursor));
    return Number(await this.#redis.hget(key, 'first'));
  }

  /** Kept in a sorted set of its own, trimmed to the latest ranges: a task that is always behind adds one per batch. */
  async recordUnrun(taskKey: string, range: SlotRange): Promise<void> {
    const key = unrunKey(this.#redisKey(taskKey));
    await this.#redis
      .multi()
      .zadd(key, range.after, `${range.after}:${range.upTo}`)
      .zremrangebyrank(key, 0, -(MAX_UNRUN_RANGES + 1))
      .exec();
  }

  async read(taskKey: string): Promise<{ firstSeen: number | null; unrun: SlotRange[] }> {
    const first = await this.#redis.hget(this.#key(taskKey), 'first');
    const members = await this.#redis.zrange(unrunKey(this.#redisKey(taskKey)), '0', '-1');
    const unrun = members.map((m) => {
      const [after, upTo] = m.split(':').map(Number);
      return { after: after ?? 0, upTo: upTo ?? 0 };
    });
    return { firstSeen: first === null ? null : Number(first), unrun };
  }

  async forget(taskKey: string): Promise<void> {
    await this.#redis.del(this.#key(taskKey), unrunKey(this.#redisKey(taskKey)));
  }
}
