// Reads Celery's Redis result backend (`--result-backend redis://…`, the URL the workers' result_backend
// has): MGET of the result keys of the runs the operator sent, nothing else.
import { Redis } from 'ioredis';
import type { ResultBackend, RunResult } from '../contracts.ts';
import { parseResultMeta, RESULT_KEY_PREFIX } from './result-meta.ts';

const MGET_CHUNK = 500;

export class RedisResultBackend implements ResultBackend {
  readonly #redis: Redis;

  constructor(url: string) {
    this.#redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5000 });
    this.#redis.on('error', () => {}); // a failed read is reported by the caller that made it
  }

  async fetch(taskIds: readonly string[]): Promise<Map<string, RunResult>> {
    const found = new Map<string, RunResult>();
    for (let start = 0; start < taskIds.length; start += MGET_CHUNK) {
      const ids = taskIds.slice(start, start + MGET_CHUNK);
      const values = await this.#redis.mget(ids.map((id) => `${RESULT_KEY_PREFIX}${id}`));
      ids.forEach((id, i) => {
        const raw = values[i];
        const result = raw == null ? null : parseResultMeta(id, raw);
        if (result) found.set(id, result);
      });
    }
    return found;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
