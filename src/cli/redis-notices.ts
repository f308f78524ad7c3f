// What the operator says about its Redis servers beyond errors: a maxmemory-policy that can evict its keys
// (read once at start), and reconnects because a server answered READONLY.
import type { Logger } from '../observe/logger.ts';
import { evictionRisk, readEvictionPolicy } from '../store/eviction-policy.ts';
import type { ReadOnlyListener, StoreRedis } from '../store/redis-connection.ts';

/** Warns when the store's eviction policy can lose run state, claims or the leader lock. */
export async function warnOfEviction(redis: StoreRedis, logger: Logger, lockInRedis: boolean): Promise<void> {
  let policy: string;
  try {
    policy = await readEvictionPolicy(redis);
  } catch (error) {
    logger.debug({ err: error }, 'cannot read Redis maxmemory-policy; not checking it');
    return;
  }
  const risk = evictionRisk(policy, lockInRedis);
  if (risk === null) logger.debug({ maxmemoryPolicy: policy }, 'Redis maxmemory-policy');
  else logger.warn({ maxmemoryPolicy: policy }, risk);
}

/** READONLY replies in a row this close together are one stretch, said once. */
const READONLY_STRETCH_MS = 60_000;

/** Says that a connection reconnects because its server is a read-only replica, once per stretch of replies. */
export function readOnlyNotice(logger: Logger, connection: string): ReadOnlyListener {
  let last = Number.NEGATIVE_INFINITY;
  return (reply) => {
    const now = Date.now();
    if (now - last > READONLY_STRETCH_MS) {
      logger.warn(
        { connection, reply: reply.message },
        'Redis answered READONLY: the server is a read-only replica (a failover demoted it); reconnecting so the address can lead to the master',
      );
    }
    last = now;
  };
}
