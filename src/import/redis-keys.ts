// Reading a source Redis (celerybeat-redis keys, RedBeat hashes): one connection that fails fast instead of
// retrying, and the keys under a prefix in a stable order.
import { Redis } from 'ioredis';
import { SourceError } from './source-error.ts';

export async function withRedis<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 10_000,
  });
  // Errors surface through the commands; the event would otherwise be printed by ioredis.
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new SourceError(`cannot connect to Redis: ${(error as Error).message}`);
  }
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Every key under `prefix`, sorted (SCAN may return a key twice and in any order). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) keys.add(key);
  } while (cursor !== '0');
  return [...keys].sort();
}
