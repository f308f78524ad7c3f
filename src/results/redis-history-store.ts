// A task's recent runs in Redis, next to its key but outside the prefix (a reader of the celerybeat-redis
// format loads every key under it): `celerybeat-operator:results:<keyPrefix><task key>`, JSON, kept a week.
import type { Cluster, Redis } from 'ioredis';
import type { TrackedRun } from './run-history.ts';
import type { HistoryStore } from './run-tracker.ts';

const KEEP_S = 7 * 86_400;

export function historyKey(keyPrefix: string, taskKey: string): string {
  return `celerybeat-operator:results:${keyPrefix}${taskKey}`;
}

export class RedisHistoryStore implements HistoryStore {
  readonly #redis: Redis | Cluster;
  readonly #keyPrefix: string;

  constructor(redis: Redis | Cluster, keyPrefix: string) {
    this.#redis = redis;
    this.#keyPrefix = keyPrefix;
  }

  async load(taskKey: string): Promise<TrackedRun[] | null> {
    const raw = await this.#redis.get(historyKey(this.#keyPrefix, taskKey));
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as TrackedRun[]) : null;
  }

  async save(taskKey: string, runs: readonly TrackedRun[]): Promise<void> {
    await this.#redis.set(historyKey(this.#keyPrefix, taskKey), JSON.stringify(runs), 'EX', KEEP_S);
  }
}
