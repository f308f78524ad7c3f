// Which Redis keys a message may be pushed to: a list, or no key yet. A queue name can be the name of any key
// on a shared Redis (an application's hash, a result string); pushing to it would fail, or for a fan-out
// reach some queues and not the others, so such keys are found before anything is pushed.
import type { Redis } from 'ioredis';

const PUSHABLE = new Set(['list', 'none']);

/** The type of each key (`TYPE`), in one round trip. */
export async function keyTypes(redis: Redis, keys: readonly string[]): Promise<Map<string, string>> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.type(key);
  const replies = (await pipeline.exec()) ?? [];
  const types = new Map<string, string>();
  keys.forEach((key, i) => {
    const [error, type] = replies[i] ?? [new Error('no reply'), undefined];
    if (error) throw error;
    types.set(key, String(type));
  });
  return types;
}

/** Whether a key of this type can take an LPUSH. */
export function isPushable(type: string): boolean {
  return PUSHABLE.has(type);
}

/** The error of a message whose queue list is a key of another type. */
export function notAListError(key: string, type: string, cause: string): Error {
  return new Error(
    `queue ${JSON.stringify(key)} is a Redis ${type}, not a list: ${cause}; the message was not sent`,
  );
}
