// `import --from redbeat`: the entry hashes `<prefix><name>`. RedBeat's own keys (`<prefix>:schedule`,
// `<prefix>:statics`, `<prefix>:lock`) start with the prefix plus ":" and are not entries.
import type { Redis } from 'ioredis';
import { readRedBeatEntry } from './redbeat-entry.ts';
import { keysUnder, withRedis } from './redis-keys.ts';
import type { SourceEntry } from './source-entry.ts';

export function readRedBeat(url: string, keyPrefix: string): Promise<SourceEntry[]> {
  return withRedis(url, (redis) => entriesUnder(redis, keyPrefix));
}

async function entriesUnder(redis: Redis, keyPrefix: string): Promise<SourceEntry[]> {
  const keys = (await keysUnder(redis, keyPrefix)).filter((k) => !k.startsWith(`${keyPrefix}:`));
  const entries: SourceEntry[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const pipeline = redis.pipeline();
    for (const key of batch) {
      pipeline.type(key);
      pipeline.hmget(key, 'definition', 'meta');
    }
    const replies = (await pipeline.exec()) ?? [];
    batch.forEach((key, j) => {
      const name = key.slice(keyPrefix.length);
      const [typeError, type] = replies[2 * j] ?? [];
      const [, fields] = replies[2 * j + 1] ?? [];
      if (typeError || type !== 'hash') return; // not an entry (RedBeat writes only hashes for entries)
      const [definition, meta] = (fields ?? []) as (string | null)[];
      if (!definition) {
        entries.push({ ok: false, name, problem: `${key} has no "definition" field` });
        return;
      }
      entries.push(readRedBeatEntry(name, definition, meta ?? null));
    });
  }
  return entries;
}
