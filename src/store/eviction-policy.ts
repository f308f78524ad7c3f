// Redis's maxmemory-policy decides what Redis deletes when its memory is full. The operator's keys are its
// run state (each task's cursor, run count and the claim of its last slot) and, with `--leader-elect redis`,
// the leader lock: a policy that may evict them silently undoes what the operator recorded.
import type { StoreRedis } from './redis-connection.ts';

/**
 * The server's maxmemory-policy: CONFIG GET, or INFO memory where CONFIG is refused (managed Redis often
 * renames or forbids it). Throws when neither answers.
 */
export async function readEvictionPolicy(redis: StoreRedis): Promise<string> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch {
    // Refused: INFO memory says the same.
  }
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) throw new Error('neither CONFIG GET nor INFO memory names maxmemory-policy');
  return policy;
}

/** Why the policy can lose the operator's keys, or null when it cannot. */
export function evictionRisk(policy: string, lockInRedis: boolean): string | null {
  if (policy.startsWith('allkeys-')) {
    return `Redis's maxmemory-policy ${policy} evicts any key when memory is full, the operator's included: a task whose key is evicted loses its run state (run count, last run, the claim of its last slot), so after a restart or a change of leader it counts from zero and a slot can run twice; use noeviction`;
  }
  if (policy.startsWith('volatile-') && lockInRedis) {
    return `Redis's maxmemory-policy ${policy} evicts keys that have a TTL when memory is full, and the leader lock has one: another instance can then take the lead while this one still leads; use noeviction`;
  }
  return null;
}
