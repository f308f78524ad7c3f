// The opt-in source of hand-written schedules (`--redis-schedules`): keys under the prefix without an owner
// marker, as celerybeat-redis users write them ("manipulated in the redis by direct database manipulation").
// Redis has no change feed that works everywhere (keyspace notifications need server config), so the
// prefix is scanned every second: a new key, an edit or a DEL takes effect at the next scan.
import type { Redis } from 'ioredis';
import { type PeriodicTask, taskKey } from '../api/types.ts';
import type { TaskSource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { handWrittenInvalidKeys } from '../observe/metrics.ts';
import { definitionText } from './definition-text.ts';
import { readScheduleDocument } from './schedule-document.ts';

export interface RedisScheduleSourceOptions {
  keyPrefix: string;
  defaultTimeZone: string;
  pollMs?: number;
}

interface KnownKey {
  /** The value without its run state: a new object is handed out only when the user changed this. */
  definition: string;
  task: PeriodicTask | null;
  problem: string | null;
}

export class RedisScheduleSource implements TaskSource {
  readonly #redis: Redis;
  readonly #logger: Logger;
  readonly #options: Required<RedisScheduleSourceOptions>;
  readonly #keys = new Map<string, KnownKey>();
  #tasks: PeriodicTask[] = [];
  #byKey = new Map<string, PeriodicTask>();
  #synced = false;
  #lastScanFailed = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #onChange: () => void = () => {};

  constructor(redis: Redis, logger: Logger, options: RedisScheduleSourceOptions) {
    this.#redis = redis;
    this.#logger = logger.child({ source: 'redis-schedules' });
    this.#options = { pollMs: 1000, ...options };
  }

  async start(onChange: () => void): Promise<void> {
    this.#onChange = onChange;
    await this.#scanAndSchedule();
  }

  list(): PeriodicTask[] {
    return this.#tasks;
  }

  get(key: string): PeriodicTask | undefined {
    return this.#byKey.get(key);
  }

  synced(): boolean {
    return this.#synced;
  }

  /** While a scan fails, a key that seems gone may still be there: nothing of it is deleted. */
  complete(): boolean {
    return !this.#lastScanFailed;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #scanAndSchedule(): Promise<void> {
    try {
      if (await this.#scan()) this.#onChange();
      this.#lastScanFailed = false;
      this.#synced = true;
    } catch (error) {
      if (!this.#lastScanFailed)
        this.#logger.warn({ err: error }, 'scanning hand-written keys failed; retrying');
      this.#lastScanFailed = true;
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#scanAndSchedule(), this.#options.pollMs);
  }

  /** Reads every key under the prefix; true when the set of hand-written tasks changed. */
  async #scan(): Promise<boolean> {
    const prefix = this.#options.keyPrefix;
    const seen = new Set<string>();
    let changed = false;
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.#redis.mget(keys);
      keys.forEach((redisKey, i) => {
        const raw = values[i];
        if (raw == null || seen.has(redisKey)) return;
        const definition = definitionText(raw);
        if (definition === null) return; // the operator's own key, or not JSON (reported by the prune scan)
        seen.add(redisKey);
        if (this.#keys.get(redisKey)?.definition === definition) return;
        changed = true;
        this.#keys.set(redisKey, this.#read(redisKey, raw, definition));
      });
    } while (cursor !== '0');
    for (const redisKey of this.#keys.keys()) {
      if (seen.has(redisKey)) continue;
      this.#keys.delete(redisKey);
      changed = true;
      this.#logger.info({ key: redisKey }, 'hand-written key deleted');
    }
    if (changed) {
      this.#tasks = [...this.#keys.values()].flatMap((k) => (k.task ? [k.task] : []));
      this.#byKey = new Map(this.#tasks.map((t) => [taskKey('', t.metadata.name), t]));
      handWrittenInvalidKeys.set([...this.#keys.values()].filter((k) => k.problem !== null).length);
    }
    return changed;
  }

  #read(redisKey: string, raw: string, definition: string): KnownKey {
    const name = redisKey.slice(this.#options.keyPrefix.length);
    const reading = readScheduleDocument(name, raw, this.#options.defaultTimeZone, this.#options.keyPrefix);
    if (reading.ok) {
      this.#logger.info({ key: redisKey, task: reading.document.task.spec.task }, 'hand-written key read');
      return { definition, task: reading.document.task, problem: null };
    }
    const problem = `${reading.field || '(value)'}: ${reading.message}`;
    this.#logger.warn(
      { key: redisKey, field: reading.field, reason: reading.message },
      'skipping invalid hand-written key',
    );
    return { definition, task: null, problem };
  }
}
