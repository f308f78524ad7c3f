// The interfaces between the layers (source → store → beat → broker → status), in one leaf module: every layer
// depends on these shapes, none on another layer's classes. Only the resource types are imported.
import type {
  ConditionStatus,
  PeriodicTask,
  PeriodicTaskPolicy,
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
   * True once the tasks themselves have been read completely at least once, whatever else `synced` waits for
   * (the policies): from then on a task `get` does not give is gone. Absent: the same as `synced`.
   */
  listed?(): boolean;
  /**
   * False while part of the desired set could not be read at all (a manifest file that never parsed):
   * keys that look orphaned may then belong to it, so they are not pruned. Absent means always complete.
   */
  complete?(): boolean;
  stop(): Promise<void>;
}

/**
 * The PeriodicTaskPolicies (from the API server or the manifest directory) and the labels of the namespaces
 * they select by. `onChange` is a coalesced level signal: a policy or a namespace's labels may have changed.
 */
export interface PolicySource {
  start(onChange: () => void): Promise<void>;
  /** Every readable policy; objects are shared with the cache and must not be mutated. */
  policies(): readonly PeriodicTaskPolicy[];
  /** A namespace's labels; one not seen (yet) has only `kubernetes.io/metadata.name`, as the API server sets. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>>;
  /** True once policies and namespaces have been read completely: no task is scheduled before. */
  synced(): boolean;
  stop(): Promise<void>;
}

/**
 * Where the Secrets that policies name are read: the operator's own namespace, or a directory in standalone
 * mode. Only Secrets a policy names are ever read.
 */
export interface SecretLookup {
  /** The Secret's keys and their values as text; undefined when there is no such Secret. Throws when it cannot be read. */
  read(name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** Where the Secret is looked for, for messages: `Secret ops/team-b-broker`. */
  describe(name: string): string;
}

/**
 * The broker a namespace's runs go to: the operator's own (`url` absent), the one its policies name, or
 * none that can be used now (the policies' Secret cannot be read, or they name different brokers).
 */
export type BrokerRoute =
  | { ok: true; url?: string }
  | { ok: false; reason: 'PolicyViolation' | 'BrokerSecretUnavailable'; message: string };

export interface BrokerRouter {
  routeOf(namespace: string): BrokerRoute;
}

// ── store ────────────────────────────────────────────────────────────────────────────────────────────────

/** The run state of a task. `cursor` is the last slot accounted for (run or missed), as `last_run_at`. */
export interface RunState {
  cursor: number;
  totalRunCount: number;
  lastTaskId: string | null;
  lastTaskSlot: number | null;
  missedRunCount: number;
  /** Slots accounted for inside a pause: neither run nor missed. */
  pausedRunCount: number;
  /** Publishes whose outcome is unknown (no confirm, lost reply, crash): never counted as runs, never resent. */
  unknownRunCount?: number;
  /**
   * A publish under way: the slot is claimed (the cursor has moved) but its publish is not settled yet. A
   * dispatcher that finds it long after `since` (epoch ms) counts it as unknown: its dispatcher stopped.
   */
  publishing?: { taskId: string; since: number };
  /** spec.pauseAfterFailures: the newest runs' FAILURE results in a row; absent until a result is counted. */
  failures?: ConsecutiveFailures;
  /** The last resume applied (the `celerybeat.io/resumed-at` annotation, epoch ms): the count started over. */
  resumedAt?: number;
}

/** FAILURE results in a row, in slot order, since the last SUCCESS (count 0) or resume. */
export interface ConsecutiveFailures {
  count: number;
  /**
   * The slot of the newest run counted (epoch ms), a success's too: a result of that run or an older one is not
   * counted (again).
   */
  slot: number;
  taskId: string;
  /** The exception type of the newest failure, when its traceback names one (`RuntimeError`); none after a SUCCESS. */
  exception?: string;
}

/** The owner marker: only keys carrying it are ever changed or deleted by the operator. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
  /** The operator that wrote the key (`--operator-id`); absent in keys written before it was recorded. */
  operator?: string;
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

/**
 * A run outside the schedule (run-now, backfill), claimed once under its own identity (`claim`) in the
 * task's manual-run record; the run state is not moved. With a push, claimed as sent in the same step;
 * without, claimed as a publish under way since `since` (epoch ms, which later settles it).
 */
export interface ManualDispatchItem {
  taskKey: string;
  claim: string;
  since: number;
  push?: { listKey: string; envelope: string };
}

/** What a manual-run claim found earlier says: a publish under way since `since`, sent, or of unknown outcome. */
export type ManualClaimState =
  | { state: 'publishing'; since: number }
  | { state: 'sent' }
  | { state: 'unknown' };

export type DispatchResult =
  | { status: 'ok' }
  | { status: 'missing' }
  | { status: 'corrupt' }
  | { status: 'conflict'; stored: RunState }
  | { status: 'fenced' }
  /** The publish was refused (for a push: the list key holds another type): the slot was not claimed. */
  | { status: 'publish-failed'; error: Error }
  /** A manual run's identity was claimed before (by any dispatcher): it is not published again. */
  | { status: 'claimed-before'; claim: ManualClaimState };

/** A claim of a slot and the run state that replaces it once its publish is known. */
export interface SettleItem {
  taskKey: string;
  claimed: RunState;
  settled: RunState;
}

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

/** A task as its key holds it: the definition the reconciler wrote there, and the run state. */
export interface LoadedTask {
  taskKey: string;
  def: TaskDefinition;
  state: RunState;
}

/** One page of a store's tasks read back (loadOwned). */
export interface LoadedPage {
  tasks: LoadedTask[];
  skipped: number;
}

/** The schedule store: one key per task; every change is atomic per key. */
export interface TaskStore {
  /** The operator whose keys this store writes and deletes (recorded as `owner.operator`). */
  readonly operatorId: string;
  redisKey(taskKey: string): string;
  /**
   * Writes the definition (`head`, when already encoded), keeping the stored run state; `initial` otherwise.
   * Every write of the leader carries its fence token ("" = unfenced); one the fence refuses throws, or
   * (dispatch) is answered `fenced`: another replica leads now.
   */
  upsert(def: TaskDefinition, initial: RunState, head?: string, fenceToken?: string): Promise<UpsertResult>;
  /** Claims and records each item's slot (and pushes its message, if given) atomically per item. */
  dispatch(items: (DispatchItem | ManualDispatchItem)[], fenceToken?: string): Promise<DispatchResult[]>;
  /**
   * Claims like `dispatch` (items without a push), then waits until a replica has the claims (`WAIT`), so a
   * failover cannot forget a slot that is about to be published elsewhere. `durable: false` when no replica
   * confirmed them in time. Optional: a store without replicas has nothing to wait for.
   */
  claimDurably?(items: (DispatchItem | ManualDispatchItem)[], fenceToken?: string): Promise<DurableClaims>;
  /**
   * Replaces each claim (the run state it wrote) with what its publish turned out to be: the run (confirmed),
   * the previous state (not published: given back), or an unknown outcome; one answer per item, false where
   * the slot moved on (left alone). Throws when the answers are unknown (the connection dropped).
   */
  settle(items: readonly SettleItem[]): Promise<boolean[]>;
  /**
   * Settles a manual run's claim that was recorded as a publish under way (`since`, as the claim reported):
   * sent, given back (not published), or unknown (counted in the task's `unknownRunCount`, with the run state
   * after it). False when the claim is not that one any more.
   */
  settleManual(
    taskKey: string,
    claim: string,
    since: number,
    outcome: 'sent' | 'released' | 'unknown',
  ): Promise<{ settled: boolean; state?: RunState }>;
  /**
   * Deletes a task's key if it is this operator's and owned by `uid` ("" = any owner); keys without an owner,
   * and keys of another operator or outside this one's scope, are never touched.
   */
  delete(taskKey: string, uid: string, fenceToken?: string): Promise<boolean>;
  /** Every key of this operator's scope under the prefix, and the keys whose value cannot be read. */
  listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }>;
  /**
   * The tasks of the keys this operator wrote (its own id in the owner marker, under its prefix and scope),
   * each read back exactly as written, for a new leader to dispatch from before its source has read the
   * resources, a page at a time (so the first due runs need not wait for the last key); `skipped` counts a
   * page's keys that give no definition (written by an older version, or held). Optional: a store that
   * cannot read definitions back leaves a new leader to wait for its source.
   */
  loadOwned?(): AsyncIterable<LoadedPage>;
  /**
   * Marks the key of a task that is not dispatched (its spec is invalid, refused by a policy, or missing from
   * a partial desired set) so that no new leader dispatches the definition it still holds; the next
   * definition write removes the mark. Fenced and owned like `delete`; false when there is no such key.
   */
  hold?(taskKey: string, uid: string, fenceToken?: string): Promise<boolean>;
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

/**
 * Run-now and backfill bookkeeping of a task, kept in Redis so that every replica agrees. The claims of
 * manual runs are in the same record but written by the store's dispatch (`ManualDispatchItem`).
 */
export interface ManualRunRecord {
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

/**
 * `ok: true` only when the broker has the message (Redis replied to LPUSH; RabbitMQ confirmed it). Not ok
 * with `unknown: true`: the message went out but its outcome never came back (a confirm timeout, a connection
 * lost after the write): the broker may deliver it, so it must not be sent again.
 */
export type PublishOutcome = { ok: true } | { ok: false; error: Error; unknown?: boolean };

export interface Broker {
  /** The broker URL without credentials, for logs. */
  readonly url: string;
  /**
   * Publishes the messages, one outcome per message in the same order. Never throws for a message-level or
   * connection problem: a message whose outcome is not ok was not delivered, unless it says `unknown`.
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

/** What the result backend says of a task's runs, as its status shows it. */
export type RunResults = Pick<
  PeriodicTaskStatus,
  'lastResult' | 'recentRuns' | 'lastSuccessfulRunAt' | 'lastFailedRunAt'
>;

/** Told what the result backend says of a task's runs whenever that changes. */
export interface RunResultsListener {
  results(namespace: string, name: string, results: RunResults): void;
}

/** A run whose result is final (SUCCESS, FAILURE or REVOKED). */
export interface FinishedRun {
  taskId: string;
  /** The run's slot (epoch ms): the scheduled time, a backfilled slot, or a run-now's time. */
  slot: number;
  state: ResultState;
  /** The traceback's last line of a FAILURE, when stored. */
  error: string | null;
}

/** Told of every run whose result became final, at least once (again after a leader change). */
export interface RunOutcomeListener {
  finished(taskKey: string, run: FinishedRun): void;
}

/** Told of every run the beat sent, to follow its result. */
export interface RunObserver {
  sent(def: TaskDefinition, taskId: string, slot: number, sentAt: number): void;
}

/** How the beat keeps runs of Forbid and Replace tasks from overlapping. */
export interface OverlapGuard {
  /** The ids among these whose runs have not finished. Throws when that cannot be known now. */
  unfinished(taskIds: readonly string[]): Promise<Set<string>>;
  /** Revokes and terminates these runs on the workers of the namespace's broker. */
  revoke(namespace: string, taskIds: readonly string[]): Promise<void>;
}

// ── beat ─────────────────────────────────────────────────────────────────────────────────────────────────

/** One slot of one task: the run state it moves from and to, and the message when the slot runs. */
export interface PlannedSlot {
  taskKey: string;
  expected: RunState;
  next: RunState;
  publish?: OutgoingMessage;
}

/** A run-now or backfill run: its own claim identity in the task's manual-run record, and its message. */
export interface ManualSlot {
  taskKey: string;
  claim: string;
  publish: OutgoingMessage;
}

export type SlotOutcome =
  | DispatchResult
  /**
   * Sent but not confirmed (confirm timeout, lost reply, or a claim found abandoned under way): the claim
   * is kept, so it is never sent again, and counted in `unknownRunCount`; `stored` is the run state now
   * recorded (for a manual run, when the count could be recorded).
   */
  | { status: 'unknown'; error: Error; stored?: RunState };

/**
 * How planned slots and manual runs reach the broker and the store; one outcome per slot, in order. Both
 * kinds have the same guarantees: the fence token, durable claims, the same-server script.
 */
export interface SlotDispatcher {
  dispatch(slots: readonly (PlannedSlot | ManualSlot)[], fenceToken: string): Promise<SlotOutcome[]>;
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
export type StatusUpdate = Omit<
  PeriodicTaskStatus,
  'conditions' | 'nextRunAt' | 'pausedRunCount' | 'unknownRunCount'
> & {
  nextRunAt?: string | null;
  /** Null removes the field: the count is back at zero (shown only while not zero). */
  pausedRunCount?: number | null;
  unknownRunCount?: number | null;
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
  /**
   * The fence token every leader write to the store carries: the Redis lock's token, or the Lease epoch this
   * replica took; "" when the mode has none. The store refuses it once another replica has taken over.
   */
  readonly token: string;
  /** For /healthz: true, or why this instance cannot recover leadership work by itself. */
  healthy(): true | string;
  /** Gives leadership up at shutdown so a standby takes over at once. */
  release(): Promise<void>;
}
