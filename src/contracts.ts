// The interfaces between the layers (source → store → beat → broker → status), in one leaf module: every layer
// depends on these shapes, none on another layer's classes. Only the resource types are imported.
import type {
  ConditionStatus,
  PeriodicTask,
  PeriodicTaskStatus,
  ResultState,
  TaskDefinition,
  TaskOptions,
} from './api/types.ts';

// ── source ───────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The desired set of PeriodicTask objects, from the API server or from manifest files.
 * `onChange` is a level signal: "these tasks may have changed, read them again". Calls are coalesced, so a
 * burst of edits gives one call, never one per object. `keys` (each a `taskKey`) names the tasks whose object
 * was added, changed or removed; undefined means any of them may have (a relist, a rescan of files).
 */
export interface TaskSource {
  /** Starts watching; resolves once the source is running (not necessarily synced). */
  start(onChange: (keys?: ReadonlySet<string>) => void): Promise<void>;
  /** The whole current set; objects are shared with the cache and must not be mutated. */
  list(): PeriodicTask[];
  /** The current object of one task (by `taskKey`), or undefined when the set holds none. */
  get(key: string): PeriodicTask | undefined;
  /** True once the first full read completed and the source is not broken beyond its grace period. */
  synced(): boolean;
  /**
   * False while part of the desired set could not be read at all (a manifest file that never parsed):
   * keys that look orphaned may then belong to it, so they are not pruned. Absent means always complete.
   */
  complete?(): boolean;
  stop(): Promise<void>;
}

// ── store ────────────────────────────────────────────────────────────────────────────────────────────────

/** The run state of a task. `cursor` is the last slot accounted for (run or missed), as `last_run_at`. */
export interface RunState {
  cursor: number;
  totalRunCount: number;
  lastTaskId: string | null;
  lastTaskSlot: number | null;
  missedRunCount: number;
}

/** The owner marker: only keys carrying it are ever changed or deleted by the operator. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
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

export interface DurableClaims {
  results: DispatchResult[];
  durable: boolean;
}

export interface InvalidKey {
  redisKey: string;
  reason: string;
}

export interface OwnedKey {
  taskKey: string;
  owner: Owner;
}

/** The schedule store: one key per task; every change is atomic per key. */
export interface TaskStore {
  redisKey(taskKey: string): string;
  /** Writes the definition (`head`, when already encoded), keeping the stored run state; `initial` otherwise. */
  upsert(def: TaskDefinition, initial: RunState, head?: string): Promise<UpsertResult>;
  /** Claims and records each item's slot (and pushes its message, if given) atomically per item. */
  dispatch(items: DispatchItem[], fenceToken?: string): Promise<DispatchResult[]>;
  /**
   * Claims like `dispatch` (items without a push), then waits until a replica has the claims (`WAIT`), so a
   * failover cannot forget a slot that is about to be published elsewhere. `durable: false` when no replica
   * confirmed them in time. Optional: a store without replicas has nothing to wait for.
   */
  claimDurably?(items: DispatchItem[], fenceToken?: string): Promise<DurableClaims>;
  /** Undoes a claim whose publish failed, unless the slot has moved on since. */
  release(taskKey: string, claimed: RunState, previous: RunState): Promise<boolean>;
  /** Deletes a task's key if it is owned by `uid` ("" = any owner); keys without an owner are never touched. */
  delete(taskKey: string, uid: string): Promise<boolean>;
  /** Every key under the prefix that carries an owner marker, and the keys whose value cannot be read. */
  listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }>;
}

/** What adopting a hand-written key did; `state` is the run state now in its tail. */
export type AdoptResult =
  | { status: 'adopted' | 'unchanged'; state: RunState }
  | { status: 'missing' | 'changed' | 'foreign' };

/**
 * Hand-written celerybeat-redis keys (`--redis-schedules`): the user owns the definition, the operator the
 * run state, which it keeps as the value's tail like in its own keys.
 */
export interface HandWrittenKeys {
  /**
   * Moves the key's run-state members into the run-state tail, keeping every other member as written.
   * The state is the key's own, unless `known` (what this process recorded last) is later: a user's write
   * that raced a run does not roll it back. `fallback` when the key carries none. "changed": the user
   * wrote the key meanwhile; it is read again at the next scan.
   */
  adopt(taskKey: string, fallback: RunState, known?: RunState): Promise<AdoptResult>;
}

/** Slots in (after, upTo] that were accounted for without running (missed, skipped, paused). */
export interface SlotRange {
  after: number;
  upTo: number;
}

/** Run-now and backfill bookkeeping of a task, kept in Redis so that every replica agrees. */
export interface ManualRunRecord {
  /** Claims a manual run once (a run-now token, a backfilled slot); false when it was claimed before. */
  claim(taskKey: string, claim: string): Promise<boolean>;
  /** Gives a claim back after its publish failed, so it is tried again. */
  release(taskKey: string, claim: string): Promise<void>;
  /** Records the first cursor of a task once; returns the one recorded first. */
  firstSeen(taskKey: string, cursor: number): Promise<number>;
  recordUnrun(taskKey: string, range: SlotRange): Promise<void>;
  read(taskKey: string): Promise<{ firstSeen: number | null; unrun: SlotRange[] }>;
  forget(taskKey: string): Promise<void>;
}

// ── broker ───────────────────────────────────────────────────────────────────────────────────────────────

export interface TaskMessageProperties {
  correlation_id: string;
  reply_to: string;
  delivery_mode: 1 | 2;
  priority: number;
  /** Milliseconds until `expires`, as text: RabbitMQ drops the message when it runs out. */
  expiration?: string;
}

/** A Celery protocol-v2 message, transport-neutral. */
export interface TaskMessage {
  headers: Record<string, unknown>;
  properties: TaskMessageProperties;
  /** The JSON text `[args, kwargs, embed]`. */
  body: string;
  contentType: 'application/json';
  contentEncoding: 'utf-8';
}

export interface OutgoingMessage {
  message: TaskMessage;
  /** Routing (queue, exchange, routingKey, priority); the rest of the options are already in the message. */
  options: TaskOptions;
}

/** `ok: true` only when the broker has the message (Redis replied to LPUSH; RabbitMQ confirmed it). */
export type PublishOutcome = { ok: true } | { ok: false; error: Error };

export interface Broker {
  /** The broker URL without credentials, for logs. */
  readonly url: string;
  /**
   * Publishes the messages, one outcome per message in the same order. Never throws for a message-level or
   * connection problem: a message whose outcome is not ok was not delivered (or, if the connection dropped
   * after the broker received it, may have been: the per-slot task id lets workers de-duplicate).
   */
  publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]>;
  /**
   * Revokes runs on every worker, terminating those already running (Celery's remote-control `revoke`
   * broadcast). Resolves once the broker took the command; which workers acted on it is not known.
   */
  revoke(taskIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

// ── results ──────────────────────────────────────────────────────────────────────────────────────────────

/** What Celery's result backend holds for one run. */
export interface RunResult {
  taskId: string;
  state: ResultState;
  /** date_done of a finished run (SUCCESS, FAILURE, REVOKED), epoch ms. */
  finishedAt: number | null;
  /** The traceback's last line, for FAILURE and RETRY; never the result value. */
  error: string | null;
}

/** Celery's result backend, read only. */
export interface ResultBackend {
  /** The stored result of each id; an id with nothing stored is absent (Celery calls it PENDING). */
  fetch(taskIds: readonly string[]): Promise<Map<string, RunResult>>;
  close(): Promise<void>;
}

/** Told of every run the beat sent, to follow its result. */
export interface RunObserver {
  sent(def: TaskDefinition, taskId: string, slot: number, sentAt: number): void;
}

/** How the beat keeps runs of Forbid and Replace tasks from overlapping. */
export interface OverlapGuard {
  /** The ids among these whose runs have not finished. Throws when that cannot be known now. */
  unfinished(taskIds: readonly string[]): Promise<Set<string>>;
  /** Revokes and terminates these runs on the workers. */
  revoke(taskIds: readonly string[]): Promise<void>;
}

// ── beat ─────────────────────────────────────────────────────────────────────────────────────────────────

/** One slot of one task: the run state it moves from and to, and the message when the slot runs. */
export interface PlannedSlot {
  taskKey: string;
  expected: RunState;
  next: RunState;
  publish?: OutgoingMessage;
}

export type SlotOutcome = DispatchResult | { status: 'publish-failed'; error: Error };

/** How planned slots reach the broker and the store; one outcome per slot, in order. */
export interface SlotDispatcher {
  dispatch(slots: PlannedSlot[], fenceToken: string): Promise<SlotOutcome[]>;
}

// ── status ───────────────────────────────────────────────────────────────────────────────────────────────

/** The Ready condition as the reconciler and the beat see it; transition times are the sink's business. */
export interface ReadyCondition {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * A partial status: only the fields set here are written; `ready` replaces the Ready condition.
 * `nextRunAt: null` says the task has no next run (disabled, completed, invalid): the field is removed.
 */
export type StatusUpdate = Omit<PeriodicTaskStatus, 'conditions' | 'nextRunAt'> & {
  nextRunAt?: string | null;
  ready?: ReadyCondition;
};

/**
 * Status write-back. `report` never blocks and never throws: updates are merged per resource (latest
 * wins) and written later, within the API rate limit. `flush` writes what is pending now (shutdown).
 */
export interface StatusSink {
  report(namespace: string, name: string, update: StatusUpdate): void;
  flush(): Promise<void>;
  /** Resources with an update not written yet (for the shutdown log); absent when nothing is ever queued. */
  pendingCount?(): number;
}

/** The object as last seen (the informer cache's `get`), to keep transition times and skip no-op writes. */
export interface ObservedObject {
  metadata: { uid?: string };
  status?: PeriodicTaskStatus;
}

export type CurrentStatusLookup = (namespace: string, name: string) => ObservedObject | undefined;

/** Which PeriodicTask an event is about. */
export interface TaskRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Events about a PeriodicTask (the API server's Events, or log lines in standalone mode). */
export interface TaskEvents {
  warning(task: TaskRef, reason: string, message: string): void;
  /**
   * Something the user should know that is not a problem. Optional: where there is no event stream
   * (standalone mode) the caller's log line is all there is.
   */
  normal(task: TaskRef, reason: string, message: string): void;
}

// ── leadership ───────────────────────────────────────────────────────────────────────────────────────────

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  /** Leadership is lost: stop all leader work at once (the process then exits). */
  onStoppedLeading(): void;
  onError?(error: Error): void;
  /** This process can never lead (its credentials are refused): it should exit so a fresh one starts. */
  onFatal?(reason: string): void;
}

/** The one interface over the leader-election modes (`--leader-elect lease|redis|none`). */
export interface Leadership {
  /** Starts campaigning; callbacks fire as leadership is won and lost. */
  run(callbacks: LeadershipCallbacks): void;
  isLeader(): boolean;
  /** Re-checks leadership now, after the store refused this instance's token; false once it is lost. */
  confirm(): Promise<boolean>;
  /** The token dispatches are fenced by in Redis, or "" when the mode has none. */
  readonly token: string;
  /** For /healthz: true, or why this instance cannot recover leadership work by itself. */
  healthy(): true | string;
  /** Gives leadership up at shutdown so a standby takes over at once. */
  release(): Promise<void>;
}
