// `import --from celerybeat-redis`: the hand-written keys under the prefix, read by the same document reader
// that `run --redis-schedules` uses, so a key imports exactly as the operator would run it. Keys with an
// `owner` are the operator's own (from PeriodicTasks) and are skipped.
import type { Redis } from 'ioredis';
import { definitionText } from '../redis-schedules/definition-text.ts';
import { readScheduleDocument } from '../redis-schedules/schedule-document.ts';
import { keysUnder, withRedis } from './redis-keys.ts';
import type { SourceEntry } from './source-entry.ts';

export function readCelerybeatRedis(url: string, keyPrefix: string): Promise<SourceEntry[]> {
  return withRedis(url, (redis) => entriesUnder(redis, keyPrefix));
}

async function entriesUnder(redis: Redis, keyPrefix: string): Promise<SourceEntry[]> {
  const keys = await keysUnder(redis, keyPrefix);
  const entries: SourceEntry[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const values = await redis.mget(batch);
    batch.forEach((key, j) => {
      const name = key.slice(keyPrefix.length);
      const raw = values[j];
      if (raw === null || raw === undefined) {
        entries.push({ ok: false, name, problem: `${key} is not a string key` });
        return;
      }
      const reading = readScheduleDocument(name, raw);
      if (definitionText(raw) === null && (reading.ok || reading.field !== '')) return; // has an owner
      if (!reading.ok) {
        entries.push({ ok: false, name, problem: `${reading.field || '(value)'}: ${reading.message}` });
        return;
      }
      const { task, lastRunAt, totalRunCount } = reading.document;
      entries.push({ ok: true, name, spec: task.spec, lastRunAt, totalRunCount });
    });
  }
  return entries;
}
