// The schedule store: one Redis string per task in the celerybeat-redis format (see task-record.ts), changed
// only through the Lua scripts so that definition updates, dispatches and deletes are each atomic.
import { Cluster } from 'ioredis';
import type { TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type {
  AdoptResult,
  DispatchItem,
  DispatchResult,
  DurableClaims,
  HandWrittenKeys,
  InvalidKey,
  OwnedKey,
  RunState,
  TaskStore,
  UpsertResult,
} from '../contracts.ts';
import { RUN_STATE_MEMBERS, readWrittenRunState } from './hand-written-state.ts';
import { topLevelMembers } from './json-members.ts';
import { databaseOf, type StoreRedis } from './redis-connection.ts';
import type { DispatchReply, ScriptedRedis } from './scripts.ts';
import { withScripts } from './scripts.ts';
import {
  decodeRunStateTail,
  decodeTaskValue,
  encodeDefinitionHead,
  encodeRunStateTail,
  TAIL_MARKER,
} from './task-record.ts';

export interface TaskStoreOptions {
  keyPrefix: string;
  /** The leader lock key that dispatches are fenced by (redis leader election), if any. */
  lockKey?: string;
  /** The database of the broker when it lives on this Redis server, so dispatch publishes atomically. */
  brokerDb?: number;
  /**
   * Replicas a durable claim waits for (`WAIT`), and for how long; default 1 and 2000 ms. `onlyWithReplicas`
   * (--durable-claims auto): while the master has no replica at all (there never was one, or the last one
   * was promoted) there is nothing a failover could promote, so claims go without waiting. A master that
   * had a replica within `replicaGoneGraceMs` (default 30 s) still waits: just after a failover the new
   * master has none until the others re-attach, and one of those may still be promoted instead.
   */
  durableClaims?: {
    replicas: number;
    timeoutMs: number;
    onlyWithReplicas?: boolean;
    replicaGoneGraceMs?: number;
  };
}

type DispatchReplies = DispatchReply[] | 'fenced';

/** How long a replica count read for durable claims (auto) is trusted. */
const REPLICA_COUNT_TTL_MS = 2000;

/** Items per script call: large enough to amortise the call, small enough to keep Redis responsive. */
const DISPATCH_CHUNK = 200;

export class RedisTaskStore implements TaskStore, HandWrittenKeys {
  readonly redis: ScriptedRedis;
  readonly options: TaskStoreOptions;
  readonly #storeDb: number;
  #replicas: { count: number; at: number } | undefined;
  /** When a replica was last seen (by this process, on whichever master it was connected to). */
  #replicaSeenAt = Number.NEGATIVE_INFINITY;
  #countingReplicas: Promise<void> | undefined;

  constructor(redis: StoreRedis, options: TaskStoreOptions) {
    this.redis = withScripts(redis);
    this.options = options;
    this.#storeDb = databaseOf(redis);
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
    const replies = await this.redis.cbDispatchSlots(...this.#scriptArguments(items, fenceToken));
    return decodeReplies(items, replies);
  }

  #scriptArguments(items: DispatchItem[], fenceToken: string): [number, ...string[]] {
    const keys: string[] = [this.options.lockKey ?? this.redisKey('')];
    const args: string[] = [fenceToken, this.options.brokerDb?.toString() ?? '', this.#storeDb.toString()];
    for (const item of items) {
      keys.push(this.redisKey(item.taskKey), item.push?.listKey ?? keys[0]!);
      args.push(encodeRunStateTail(item.expected), encodeRunStateTail(item.next), item.push?.envelope ?? '');
    }
    return [keys.length, ...keys, ...args];
  }

  /**
   * The claims and a WAIT in one pipeline: on one connection, so the WAIT counts exactly these writes (the
   * connection never resends a command, see redis-connection.ts), and on Redis Cluster to the node of the
   * prefix's hash slot. Throws when the claims' outcome is unknown (the connection dropped).
   */
  async claimDurably(items: DispatchItem[], fenceToken = ''): Promise<DurableClaims> {
    if (items.length === 0) return { results: [], durable: true };
    const {
      replicas,
      timeoutMs,
      onlyWithReplicas,
      replicaGoneGraceMs = 30_000,
    } = this.options.durableClaims ?? { replicas: 1, timeoutMs: 2000 };
    if (onlyWithReplicas) {
      // The first time (and after a failed WAIT) the count is awaited: a master without replicas must not
      // cost each batch the WAIT timeout; later it is refreshed in the background.
      if (this.#replicas === undefined) await this.#refreshReplicaCount();
      else if (Date.now() - this.#replicas.at > REPLICA_COUNT_TTL_MS) void this.#refreshReplicaCount();
      if (this.#replicas?.count === 0 && Date.now() - this.#replicaSeenAt > replicaGoneGraceMs)
        return { results: await this.dispatch(items, fenceToken), durable: true };
    }
    const pipeline = this.redis.pipeline() as ReturnType<ScriptedRedis['pipeline']> & {
      cbDispatchSlots(numKeys: number, ...keysAndArgs: string[]): unknown;
    };
    const chunks: DispatchItem[][] = [];
    for (let start = 0; start < items.length; start += DISPATCH_CHUNK) {
      const chunk = items.slice(start, start + DISPATCH_CHUNK);
      chunks.push(chunk);
      pipeline.cbDispatchSlots(...this.#scriptArguments(chunk, fenceToken));
    }
    pipeline.wait(replicas, timeoutMs);
    const replies = await pipeline.exec();
    if (replies === null) throw new Error('the claim pipeline was discarded');
    const results = chunks.flatMap((chunk, i) => {
      const [error, reply] = replies[i]!;
      if (error) throw new Error(`claiming ${chunk.length} slots failed: ${error.message}`);
      return decodeReplies(chunk, reply as DispatchReplies);
    });
    const [waitError, acked] = replies[chunks.length]!;
    const durable = !waitError && typeof acked === 'number' && acked >= replicas;
    if (!durable && onlyWithReplicas) void this.#refreshReplicaCount(true);
    return { results, durable };
  }

  /** Reads the master's replica count in the background (once at a time); `now` skips the cache. */
  #refreshReplicaCount(now = false): Promise<void> {
    if (now) this.#replicas = undefined;
    this.#countingReplicas ??= this.replicaCount()
      .then((count) => {
        this.#replicas = { count, at: Date.now() };
        if (count > 0) this.#replicaSeenAt = this.#replicas.at;
      })
      .catch(() => undefined)
      .finally(() => {
        this.#countingReplicas = undefined;
      });
    return this.#countingReplicas;
  }

  /** How many replicas the store's master has now (for --durable-claims auto). */
  async replicaCount(): Promise<number> {
    // On Redis Cluster, ask the master of the prefix's slot: a keyed command routes the pipeline there.
    const pipeline = this.redis.pipeline();
    pipeline.exists(this.redisKey(''));
    pipeline.info('replication');
    const replies = await pipeline.exec();
    const info = replies?.[1]?.[1];
    if (typeof info !== 'string') throw new Error('INFO replication gave no answer');
    return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
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

  async adopt(taskKey: string, fallback: RunState, known?: RunState): Promise<AdoptResult> {
    const key = this.redisKey(taskKey);
    const raw = await this.redis.get(key);
    if (raw === null) return { status: 'missing' };
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(raw) as Record<string, unknown>;
      if (decodeTaskValue(raw).owner) return { status: 'foreign' };
    } catch {
      return { status: 'changed' };
    }
    const inTail = tailState(raw);
    if (inTail && !(known && known.cursor > inTail.cursor)) return { status: 'unchanged', state: inTail };
    const members = topLevelMembers(raw);
    if (!members) return { status: 'changed' };
    let state: RunState;
    try {
      state = chooseState(value, fallback, known);
    } catch {
      return { status: 'changed' }; // rewritten since the source read it valid: read again at the next scan
    }
    const kept = members.filter((m) => !RUN_STATE_MEMBERS.has(m.key)).map((m) => m.text);
    const adopted = `{${kept.join(', ')}${encodeRunStateTail(state)}`;
    const reply = await this.redis.cbAdoptKey(key, raw, adopted);
    return reply === 'adopted' ? { status: 'adopted', state } : { status: reply };
  }

  async listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }> {
    const owned: OwnedKey[] = [];
    const invalid: InvalidKey[] = [];
    const match = `${this.options.keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    // SCAN covers one server: on Redis Cluster every master is scanned (MGET stays in the prefix's slot).
    const servers = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, keys] = await server.scan(cursor, 'MATCH', match, 'COUNT', 1000);
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
    }
    return { owned, invalid };
  }
}

function decodeReplies(items: DispatchItem[], replies: DispatchReplies): DispatchResult[] {
  if (replies === 'fenced') return items.map(() => ({ status: 'fenced' }));
  return replies.map((reply): DispatchResult => {
    if (Array.isArray(reply)) return { status: 'conflict', stored: decodeRunStateTail(reply[1]) };
    return { status: reply };
  });
}

/** The run state of a value already in the adopted form: its exact tail, and no run-state member before it. */
function tailState(raw: string): RunState | null {
  const pos = raw.lastIndexOf(TAIL_MARKER);
  if (pos < 0) return null;
  try {
    const state = decodeRunStateTail(raw.slice(pos));
    if (encodeRunStateTail(state) !== raw.slice(pos)) return null;
    const head = topLevelMembers(`${raw.slice(0, pos)}}`);
    return head?.every((m) => !RUN_STATE_MEMBERS.has(m.key)) ? state : null;
  } catch {
    return null;
  }
}

/** The key's written state, unless what this process recorded is later (a write that raced a run). */
function chooseState(value: Record<string, unknown>, fallback: RunState, known?: RunState): RunState {
  const written = readWrittenRunState(value);
  if (written.lastRunAt === null) return known ?? fallback;
  if (known && known.cursor >= written.lastRunAt) {
    return { ...known, totalRunCount: Math.max(known.totalRunCount, written.totalRunCount) };
  }
  const lastTaskId = typeof value.last_task_id === 'string' ? value.last_task_id : null;
  const missed = value.missed_run_count;
  return {
    cursor: written.lastRunAt,
    totalRunCount: written.totalRunCount,
    lastTaskId,
    lastTaskSlot: null,
    missedRunCount: typeof missed === 'number' && Number.isSafeInteger(missed) && missed >= 0 ? missed : 0,
  };
}
