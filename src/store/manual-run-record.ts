// What the operator records of a task besides its run state, for run-now and backfill: which manual runs
// were claimed (so a token or a backfilled slot runs once, from any replica), when the task was first seen,
// and the slot ranges it accounted for without running them (missed, skipped, paused). One hash per task,
// `celerybeat-operator:manual:<task key in Redis>`, outside the prefix (celerybeat-redis readers load every
// key under it) and, in a Redis Cluster, in the prefix's hash slot.
import type { Cluster, Redis } from 'ioredis';
import type { ManualRunRecord, SlotRange } from '../contracts.ts';

export function manualRunKey(redisKey: string): string {
  return `celerybeat-operator:manual:${redisKey}`;
}

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

  async claim(taskKey: string, claim: string): Promise<boolean> {
    return (await this.#redis.hsetnx(this.#key(taskKey), `claim:${claim}`, String(Date.now()))) === 1;
  }

  async release(taskKey: string, claim: string): Promise<void> {
    await this.#redis.hdel(this.#key(taskKey), `claim:${claim}`);
  }

  async firstSeen(taskKey: string, cursor: number): Promise<number> {
    const key = this.#key(taskKey);
    await this.#redis.hsetnx(key, 'first', String(cursor));
    return Number(await this.#redis.hget(key, 'first'));
  }

  async recordUnrun(taskKey: string, range: SlotRange): Promise<void> {
    await this.#redis.hset(this.#key(taskKey), `unrun:${range.after}:${range.upTo}`, '1');
  }

  async read(taskKey: string): Promise<{ firstSeen: number | null; unrun: SlotRange[] }> {
    const fields = await this.#redis.hgetall(this.#key(taskKey));
    const unrun: SlotRange[] = [];
    for (const name of Object.keys(fields)) {
      const m = /^unrun:([\d.]+):([\d.]+)$/.exec(name);
      if (m) unrun.push({ after: Number(m[1]), upTo: Number(m[2]) });
    }
    return { firstSeen: fields.first === undefined ? null : Number(fields.first), unrun };
  }

  async forget(taskKey: string): Promise<void> {
    await this.#redis.del(this.#key(taskKey));
  }
}
