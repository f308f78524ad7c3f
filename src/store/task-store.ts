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
  LoadedPage,
  LoadedTask,
  ManualClaimState,
  ManualDispatchItem,
  OwnedKey,
  RunState,
  SettleItem,
  TaskStore,
  UpsertResult,
} from '../contracts.ts';
import { RUN_STATE_MEMBERS, readWrittenRunState } from './hand-written-state.ts';
import { topLevelMembers } from './json-members.ts';
import { manualClaimField, manualRunKey } from './manual-run-record.ts';
import { type OperatorScope, ownsKey } from './operator-scope.ts';
import { databaseOf, type StoreRedis } from './redis-connection.ts';
import type { DispatchReply, ScriptedRedis } from './scripts.ts';
import { withScripts } from './scripts.ts';
import { readStoredDefinition } from './stored-definition.ts';
import {
  decodeRunStateTail,
  decodeTaskMembers,
  decodeTaskValue,
  encodeDefinitionHead,
  encodeRunStateTail,
  TAIL_MARKER,
} from './task-record.ts';

export interface TaskStoreOptions {
  keyPrefix: string;
  /**
   * The key that fences the leader's writes: the leader lock (redis leader election) or the Lease epoch
   * (lease); a write with a fence token is refused unless this key holds it.
   */
  fenceKey?: string;
  /**
   * The operator that owns the keys this store writes (docs/sharing-redis.md); default: the fence key, else
   * the key prefix (the replicas that share either are one operator).
   */
  operatorId?: string;
  /** The one namespace the operator watches: keys of other namespaces are never pruned or deleted. */
  namespace?: string;
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
  readonly scope: OperatorScope;
  readonly #storeDb: number;
  #replicas: { count: number; at: number } | undefined;
  /** When a replica was last seen (by this process, on whichever master it was connected to). */
  #replicaSeenAt = Number.NEGATIVE_INFINITY;
  #countingReplicas: Promise<void> | undefined;

  constructor(redis: StoreRedis, options: TaskStoreOptions) {
    this.redis = withScripts(redis);
    this.options = options;
    this.#storeDb = databaseOf(redis);
    this.scope = {
      id: options.operatorId ?? options.fenceKey ?? options.keyPrefix,
      keyPrefix: options.keyPrefix,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    };
  }

  get operatorId(): string {
    return this.scope.id;
  }

  redisKey(taskKey: string): string {
    return `${this.options.keyPrefix}${taskKey}`;
  }

  /**
   * Writes the definition (`head`, if the caller has encoded it already), keeping the stored run state;
   * `initial` is used when the key has none. Throws when the fence refuses `fenceToken`.
   */
  async upsert(
    def: TaskDefinition,
    initial: RunState,
    head = encodeDefinitionHead(def, this.operatorId),
    fenceToken = '',
  ): Promise<UpsertResult> {
    const key = this.redisKey(taskKey(def.namespace, def.name));
    const [status, tail] = await this.redis.cbUpsertTask(
      key,
      this.#fenceKey,
      head,
      encodeRunStateTail(initial),
      def.uid,
      this.operatorId,
      fenceToken,
    );
    if (status === 'fenced') throw fencedWrite('writing', key);
    if (status === 'foreign') return { status };
    return { status, state: decodeRunStateTail(tail) };
  }

  async dispatch(items: StoreItem[], fenceToken = ''): Promise<DispatchResult[]> {
    const chunks: Promise<DispatchResult[]>[] = [];
    for (let start = 0; start < items.length; start += DISPATCH_CHUNK) {
      chunks.push(this.#dispatchChunk(items.slice(start, start + DISPATCH_CHUNK), fenceToken));
    }
    return (await Promise.all(chunks)).flat();
  }

  async #dispatchChunk(items: StoreItem[], fenceToken: string): Promise<DispatchResult[]> {
    const replies = await this.redis.cbDispatchSlots(...this.#scriptArguments(items, fenceToken));
    return decodeReplies(items, replies);
  }

  /** Any key of the prefix's hash slot will do when nothing is fenced. */
  get #fenceKey(): string {
    return this.options.fenceKey ?? this.redisKey('');
  }

  #scriptArguments(items: StoreItem[], fenceToken: string): [number, ...string[]] {
    const keys: string[] = [this.#fenceKey];
    const args: string[] = [fenceToken, this.options.brokerDb?.toString() ?? '', this.#storeDb.toString()];
    for (const item of items) {
      const listKey = item.push?.listKey ?? keys[0]!;
      const envelope = item.push?.envelope ?? '';
      if ('claim' in item) {
        // A manual run: the value of a claim under way, and the field of its claim in the manual-run record.
        keys.push(manualRunKey(this.redisKey(item.taskKey)), listKey);
        args.push(publishingClaim(item.since), manualClaimField(item.claim), envelope);
      } else {
        keys.push(this.redisKey(item.taskKey), listKey);
        args.push(encodeRunStateTail(item.expected), encodeRunStateTail(item.next), envelope);
      }
    }
    return [keys.length, ...keys, ...args];
  }

  /**
   * The claims and a WAIT in one pipeline: on one connection, so the WAIT counts exactly these writes (the
   * connection never resends a command, see redis-connection.ts), and on Redis Cluster to the node of the
   * prefix's hash slot. Throws when the claims' outcome is unknown (the connection dropped).
   */
  async claimDurably(items: StoreItem[], fenceToken = ''): Promise<DurableClaims> {
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
    const chunks: StoreItem[][] = [];
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

  /** One pipeline for the whole batch (on Redis Cluster, the prefix's slot holds every key). */
  async settle(items: readonly SettleItem[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const pipeline = this.redis.pipeline() as ReturnType<ScriptedRedis['pipeline']> & {
      cbSettleClaim(key: string, claimedTail: string, settledTail: string): unknown;
    };
    for (const item of items) {
      pipeline.cbSettleClaim(
        this.redisKey(item.taskKey),
        encodeRunStateTail(item.claimed),
        encodeRunStateTail(item.settled),
      );
    }
    const replies = await pipeline.exec();
    if (replies === null) throw new Error('the settle pipeline was discarded');
    return replies.map(([error, reply], i) => {
      if (error) throw new Error(`settling the claim of ${items[i]!.taskKey} failed: ${error.message}`);
      return reply === 'settled';
    });
  }

  async settleManual(
    taskKey: string,
    claim: string,
    since: number,
    outcome: 'sent' | 'released' | 'unknown',
  ): Promise<{ settled: boolean; state?: RunState }> {
    const redisKey = this.redisKey(taskKey);
    const reply = await this.redis.cbSettleManualClaim(
      manualRunKey(redisKey),
      redisKey,
      manualClaimField(claim),
      publishingClaim(since),
      outcome,
    );
    if (reply[0] === 'changed') return { settled: false };
    return reply[1] === '' ? { settled: true } : { settled: true, state: decodeRunStateTail(reply[1]) };
  }

  async delete(taskKey: string, uid: string, fenceToken = ''): Promise<boolean> {
    const { id, keyPrefix, namespace = '' } = this.scope;
    const key = this.redisKey(taskKey);
    const reply = await this.redis.cbDeleteOwned(
      key,
      this.#fenceKey,
      uid,
      id,
      keyPrefix,
      namespace,
      fenceToken,
    );
    if (reply === 'fenced') throw fencedWrite('deleting', key);
    return reply === 'deleted';
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

  async hold(taskKey: string, uid: string, fenceToken = ''): Promise<boolean> {
    const key = this.redisKey(taskKey);
    const reply = await this.redis.cbHoldTask(key, this.#fenceKey, uid, this.operatorId, fenceToken);
    if (reply === 'fenced') throw fencedWrite('holding', key);
    return reply === 'held';
  }

  async listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }> {
    const owned: OwnedKey[] = [];
    const invalid: InvalidKey[] = [];
    for await (const [redisKey, raw] of this.#values()) {
      try {
        const { owner } = decodeTaskValue(raw);
        // A neighbour's key (a nested prefix, another operator, a namespace not watched) is not listed.
        if (owner && ownsKey(this.scope, redisKey, owner))
          owned.push({ taskKey: redisKey.slice(this.options.keyPrefix.length), owner });
      } catch (error) {
        invalid.push({ redisKey, reason: (error as Error).message });
      }
    }
    return { owned, invalid };
  }

  async *loadOwned(): AsyncGenerator<LoadedPage> {
    for await (const page of this.#pages()) {
      const tasks: LoadedTask[] = [];
      let skipped = 0;
      for (const [redisKey, raw] of page) {
        let read: ReturnType<typeof decodeTaskMembers>;
        try {
          read = decodeTaskMembers(raw);
        } catch {
          continue; // reported by the prune pass's listOwned
        }
        const { owner, runState, members } = read;
        // Only keys this operator wrote itself: a key without an operator id predates the complete format.
        if (!owner || owner.operator !== this.operatorId || !ownsKey(this.scope, redisKey, owner)) continue;
        const stored = runState ? readStoredDefinition(members) : undefined;
        // Read back exactly as written, or not at all: a definition that does not encode to the same head
        // would be dispatched as something the resource never said.
        if (
          !stored?.ok ||
          encodeDefinitionHead(stored.def, this.operatorId) !== raw.slice(0, raw.lastIndexOf(TAIL_MARKER))
        ) {
          skipped += 1;
          continue;
        }
        tasks.push({
          taskKey: redisKey.slice(this.options.keyPrefix.length),
          def: stored.def,
          state: runState as RunState,
        });
      }
      yield { tasks, skipped };
    }
  }

  /** Every key under the prefix with its value, one page at a time. */
  async *#pages(): AsyncGenerator<Array<[string, string]>> {
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
        const page: Array<[string, string]> = [];
        for (const [i, redisKey] of keys.entries()) {
          const raw = values[i];
          if (raw != null) page.push([redisKey, raw]);
        }
        yield page;
      } while (cursor !== '0');
    }
  }

  /** Every key under the prefix with its value. */
  async *#values(): AsyncGenerator<[string, string]> {
    for await (const page of this.#pages()) yield* page;
  }
}

/** A write the fence refused: another replica took the leadership since this one's token was issued. */
function fencedWrite(what: string, key: string): Error {
  return new Error(`${what} ${key} was refused by the leader fence: another replica leads now`);
}

type StoreItem = DispatchItem | ManualDispatchItem;

function decodeReplies(items: StoreItem[], replies: DispatchReplies): DispatchResult[] {
  if (replies === 'fenced') return items.map(() => ({ status: 'fenced' }));
  return replies.map((reply, i): DispatchResult => {
    if (!Array.isArray(reply)) return { status: reply };
    if (reply[0] === 'conflict') return { status: 'conflict', stored: decodeRunStateTail(reply[1]) };
    if (reply[0] === 'claimed') return { status: 'claimed-before', claim: manualClaimState(reply[1]) };
    return {
      status: 'publish-failed',
      error: pushRefused(items[i]!.push?.listKey ?? '', reply[1], reply[2]),
    };
  });
}

const PUBLISHING = 'publishing:';

function publishingClaim(since: number): string {
  return `${PUBLISHING}${Math.round(since)}`;
}

/** A stored manual claim; a value from before claims had states (the time of the claim) was a sent run. */
function manualClaimState(value: string): ManualClaimState {
  if (value.startsWith(PUBLISHING))
    return { state: 'publishing', since: Number(value.slice(PUBLISHING.length)) };
  return value === 'unknown' ? { state: 'unknown' } : { state: 'sent' };
}

/** Why Redis refused a push, naming the list: most often a key of the queue's name that is not a list. */
function pushRefused(listKey: string, type: string, cause: string): Error {
  const queue = `queue ${JSON.stringify(listKey)}`;
  if (type !== 'list' && type !== 'none') {
    return new Error(`${queue} is a Redis ${type}, not a list: ${cause}; the message was not sent`);
  }
  return new Error(`LPUSH to ${queue} was refused: ${cause}; the message was not sent`);
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
  return {
    cursor: written.lastRunAt,
    totalRunCount: written.totalRunCount,
    lastTaskId,
    lastTaskSlot: null,
    missedRunCount: countOrZero(value.missed_run_count),
    pausedRunCount: countOrZero(value.paused_run_count),
  };
}

/** A count member of a hand-written value; anything but a count reads as none. */
function countOrZero(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
