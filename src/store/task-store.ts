// The schedule store: one Redis string per task in the celerybeat-redis format (see task-record.ts), changed
// only through the Lua scripts so that definition updates, dispatches and deletes are each atomic.
import type { Redis } from 'ioredis';
import type { TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type {
  DispatchItem,
  DispatchResult,
  InvalidKey,
  OwnedKey,
  RunState,
  TaskStore,
  UpsertResult,
} from '../contracts.ts';
import type { ScriptedRedis } from './scripts.ts';
import { withScripts } from './scripts.ts';
import {
  decodeRunStateTail,
  decodeTaskValue,
  encodeDefinitionHead,
  encodeRunStateTail,
} from './task-record.ts';

export interface TaskStoreOptions {
  keyPrefix: string;
  /** The leader lock key that dispatches are fenced by (redis leader election), if any. */
  lockKey?: string;
  /** The database of the broker when it lives on this Redis server, so dispatch publishes atomically. */
  brokerDb?: number;
}

/** Items per script call: large enough to amortise the call, small enough to keep Redis responsive. */
const DISPATCH_CHUNK = 200;

export class RedisTaskStore implements TaskStore {
  readonly redis: ScriptedRedis;
  readonly options: TaskStoreOptions;
  readonly #storeDb: number;

  constructor(redis: Redis, options: TaskStoreOptions) {
    this.redis = withScripts(redis);
    this.options = options;
    this.#storeDb = redis.options.db ?? 0;
  }

  redisKey(taskKey: string): string {
    return `${this.options.keyPrefix}${taskKey}`;
  }

  /**
   * Writes the definition (`head`, if the caller has encoded it already), keeping the stored run state;
   * `initial` is used when the key has none.
   */
  async upsert(
    def: TaskDefinition,
    initial: RunState,
    head = encodeDefinitionHead(def),
  ): Promise<UpsertResult> {
    const [status, tail] = await this.redis.cbUpsertTask(
      this.redisKey(taskKey(def.namespace, def.name)),
      head,
      encodeRunStateTail(initial),
      def.uid,
    );
    if (status === 'foreign') return { status };
    return { status, state: decodeRunStateTail(tail) };
  }

  async dispatch(items: DispatchItem[], fenceToken = ''): Promise<DispatchResult[]> {
    const chunks: Promise<DispatchResult[]>[] = [];
    for (let start = 0; start < items.length; start += DISPATCH_CHUNK) {
      chunks.push(this.#dispatchChunk(items.slice(start, start + DISPATCH_CHUNK), fenceToken));
    }
    return (await Promise.all(chunks)).flat();
  }

  async #dispatchChunk(items: DispatchItem[], fenceToken: string): Promise<DispatchResult[]> {
    const keys: string[] = [this.options.lockKey ?? this.redisKey('')];
    const args: string[] = [fenceToken, this.options.brokerDb?.toString() ?? '', this.#storeDb.toString()];
    for (const item of items) {
      keys.push(this.redisKey(item.taskKey), item.push?.listKey ?? keys[0]!);
      args.push(encodeRunStateTail(item.expected), encodeRunStateTail(item.next), item.push?.envelope ?? '');
    }
    const replies = await this.redis.cbDispatchSlots(keys.length, ...keys, ...args);
    if (replies === 'fenced') return items.map(() => ({ status: 'fenced' }));
    return replies.map((reply): DispatchResult => {
      if (Array.isArray(reply)) return { status: 'conflict', stored: decodeRunStateTail(reply[1]) };
      return { status: reply };
    });
  }

  async release(taskKey: string, claimed: RunState, previous: RunState): Promise<boolean> {
    const reply = await this.redis.cbReleaseSlot(
      this.redisKey(taskKey),
      encodeRunStateTail(claimed),
      encodeRunStateTail(previous),
    );
    return reply === 'released';
  }

  async delete(taskKey: string, uid: string): Promise<boolean> {
    return (await this.redis.cbDeleteOwned(this.redisKey(taskKey), uid)) === 'deleted';
  }

  async listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }> {
    const owned: OwnedKey[] = [];
    const invalid: InvalidKey[] = [];
    const match = `${this.options.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const values = await this.redis.mget(keys);
      keys.forEach((redisKey, i) => {
        const raw = values[i];
        if (raw == null) return;
        try {
          const { owner } = decodeTaskValue(raw);
          if (owner) owned.push({ taskKey: redisKey.slice(this.options.keyPrefix.length), owner });
        } catch (error) {
          invalid.push({ redisKey, reason: (error as Error).message });
        }
      });
    } while (cursor !== '0');
    return { owned, invalid };
  }
}
