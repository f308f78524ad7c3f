// The schedule store: one Redis string per task in the celerybeat-redis format (see task-record.ts), changed
// only through the Lua scripts so that definition updates, dispatches and deletes are each atomic.
import type { Redis } from 'ioredis';
import type { TaskDefinition } from '../api/types.ts';
import type { ScriptedRedis } from './scripts.ts';
import { withScripts } from './scripts.ts';
import {
  decodeRunStateTail,
  decodeTaskValue,
  encodeDefinitionHead,
  encodeRunStateTail,
  type Owner,
  type RunState,
} from './task-record.ts';

export interface TaskStoreOptions {
  keyPrefix: string;
  /** The leader lock key that dispatches are fenced by (redis leader election), if any. */
  lockKey?: string;
  /** The database of the broker when it lives on this Redis server, so dispatch publishes atomically. */
  brokerDb?: number;
}

export type UpsertStatus = 'created' | 'updated' | 'unchanged';

export type UpsertResult = { status: UpsertStatus; state: RunState } | { status: 'foreign' };

/** One slot to record, and, on the same-server path, the message to push in the same step. */
export interface DispatchItem {
  taskKey: string;
  expected: RunState;
  next: RunState;
  push?: { listKey: string; envelope: string };
}

export type DispatchResult =
  | { status: 'ok' }
  | { status: 'missing' }
  | { status: 'corrupt' }
  | { status: 'conflict'; stored: RunState }
  | { status: 'fenced' };

export interface InvalidKey {
  redisKey: string;
  reason: string;
}

export interface OwnedKey {
  taskKey: string;
  owner: Owner;
}

/** Items per script call: large enough to amortise the call, small enough to keep Redis responsive. */
const DISPATCH_CHUNK = 200;

export class TaskStore {
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
      this.redisKey(`${def.namespace}/${def.name}`),
      head,
      encodeRunStateTail(initial),
      def.uid,
    );
    if (status === 'foreign') return { status };
    return { status, state: decodeRunStateTail(tail) };
  }

  /** Claims and records each item's slot (and pushes its message, if given) atomically per item. */
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

  /** Undoes a claim whose publish failed, unless the slot has moved on since. */
  async release(taskKey: string, claimed: RunState, previous: RunState): Promise<boolean> {
    const reply = await this.redis.cbReleaseSlot(
      this.redisKey(taskKey),
      encodeRunStateTail(claimed),
      encodeRunStateTail(previous),
    );
    return reply === 'released';
  }

  /** Deletes a task's key if it is owned by `uid` ("" = any owner). Keys without an owner are never touched. */
  async delete(taskKey: string, uid: string): Promise<boolean> {
    return (await this.redis.cbDeleteOwned(this.redisKey(taskKey), uid)) === 'deleted';
  }

  /** Every key under the prefix that carries an owner marker, and the keys whose value cannot be read. */
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
