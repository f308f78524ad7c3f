// The fence of --leader-elect lease: the Lease alone cannot stop a leader cut off from the API server from
// writing to Redis. Each replica that takes the Lease records its epoch (the Lease's leaseTransitions, which
// only the API server's optimistic concurrency lets grow) in one key of its operator, and every leader write
// carries that value (advance-epoch-1.lua, fence.lua): an older leader's writes are refused from the moment
// its successor took over.
import type { StoreRedis } from '../store/redis-connection.ts';
import { type ScriptedRedis, withScripts } from '../store/scripts.ts';

/**
 * The epoch key of one operator (docs/sharing-redis.md): its id scopes it, and the key prefix comes first so
 * that on Redis Cluster the key shares the prefix's hash tag with the task keys it fences.
 */
export function leaseEpochKey(keyPrefix: string, operatorId: string): string {
  return `celerybeat-operator:epoch:${keyPrefix}|${operatorId}`;
}

/** The epoch key holds `token` (this replica's), or another leader's value (`held: false`). */
export type EpochClaim = { held: true; token: string } | { held: false; stored: string };

/** Where the epoch is kept; an interface so that the leadership's timing can be tested without Redis. */
export interface EpochRecord {
  /**
   * `take` once the Lease was just taken; `keep` to check that this replica still leads (and to write its
   * epoch back when Redis lost it). Throws when Redis cannot be asked.
   */
  advance(epoch: number, leaseUid: string, mode: 'take' | 'keep'): Promise<EpochClaim>;
}

export class RedisEpochRecord implements EpochRecord {
  readonly #redis: ScriptedRedis;
  readonly #key: string;

  constructor(redis: StoreRedis, key: string) {
    this.#redis = withScripts(redis);
    this.#key = key;
  }

  async advance(epoch: number, leaseUid: string, mode: 'take' | 'keep'): Promise<EpochClaim> {
    const [status, value] = await this.#redis.cbAdvanceEpoch(this.#key, String(epoch), leaseUid, mode);
    return status === 'held' ? { held: true, token: value } : { held: false, stored: value };
  }
}
