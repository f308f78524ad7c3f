// Brings the store and the beat in line with the desired set of PeriodicTasks. Level-based: a pass starts from
// current objects (the whole list, or the current object of each changed task), never from what an event
// said; a pass that finds nothing changed writes nothing.
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { PeriodicTask, PeriodicTaskStatus, TaskDefinition } from '../api/types.ts';
import { isHandWritten, namespaceOf, taskKeyOf } from '../api/types.ts';
import type { Beat, CursorMove } from '../beat/beat.ts';
import type { ManualRuns } from '../beat/manual-runs.ts';
import type {
  BrokerRouter,
  ConsecutiveFailures,
  HandWrittenKeys,
  LoadedTask,
  RunState,
  StatusSink,
  TaskEvents,
  TaskStore,
  UpsertResult,
} from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import {
  invalidStoreKeys,
  observeSchedules,
  policyViolationsTotal,
  reconcileErrorsTotal,
  runStateRecoveriesTotal,
} from '../observe/metrics.ts';
import { describeViolations } from '../policy/evaluate.ts';
import type { PolicyBook } from '../policy/policy-book.ts';
import { compileTaskSchedule } from '../schedule/compile.ts';
import { isPaused } from '../schedule/completion.ts';
import { initialCursor } from '../schedule/cursor.ts';
import { exceptionType } from '../schedule/failure-pause.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { encodeDefinitionHead } from '../store/task-record.ts';
import { validatePeriodicTask } from '../validation/validate.ts';
import { type StatusInputs, StatusProjection } from './status-projection.ts';
import {
  dayNote,
  noteWithNextRuns,
  readyCondition,
  refOf,
  type ScheduleState,
  scheduleState,
} from './task-status.ts';

export interface ReconcilerOptions {
  store: TaskStore;
  beat: Beat;
  status: StatusSink;
  events: TaskEvents;
  logger: Logger;
  defaultTimeZone: string;
  /** Run-now and backfill (annotations); absent in tests that do not need them. */
  manualRuns?: ManualRuns;
  /** Whether the operator reads a result backend (`--result-backend`): Forbid and Replace need it. */
  resultBackend?: boolean;
  /** Hand-written celerybeat-redis keys (`--redis-schedules`); absent when that source is off. */
  handWritten?: HandWrittenKeys;
  /** The leader's fence token, carried by every store write (default "": unfenced). */
  fenceToken?: () => string;
  /** The PeriodicTaskPolicies in force; absent: every valid task is scheduled (a trusted cluster). */
  policies?: PolicyBook;
  /** The broker of each namespace (policies naming one through a Secret); absent: every run to the operator's own. */
  brokers?: BrokerRouter;
  clock?: () => number;
}

/** What was last written for a task, as digests: a schedule costs memory once per 100,000 tasks. */
interface Applied {
  uid: string;
  /** The definition as written and what the beat and the status depend on beside it. */
  digest: string;
  /** What the slots depend on: when it changes, the new schedule starts from now, not from the old cursor. */
  timing: string;
  /** Handed to the beat; false while it is not dispatched (invalid, or missing from a partial desired set). */
  dispatched: boolean;
}

/** What the reconciler knows of one task, in one record: a gone task is forgotten as a whole. */
interface TaskRecord {
  /** What was last written to its key; undefined until a definition was written. */
  applied: Applied | undefined;
  /** Why its spec is invalid, told once per distinct message. */
  invalid: string | undefined;
  /** The object it was last reconciled from: sources replace an object when it changes. */
  reconciledFrom: PeriodicTask | undefined;
  /** The day note last told, so each distinct note is an Event once. */
  note: string | undefined;
  /** The policies' version the task was last checked against, and the Warn violations last told. */
  policyVersion: number | undefined;
  policyWarning: string | undefined;
}

/** A definition written: how the key changed, and the run state it holds. */
type Written = Exclude<UpsertResult, { status: 'foreign' }>;

function hash(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

/**
 * The digest of the definition as written, and of what the Redis value does not hold but the beat and the
 * status depend on (generation, pause, jitter, concurrencyPolicy, a resume): a change of any of them reconciles.
 */
function definitionDigest(def: TaskDefinition, encodedHead: string): string {
  const beside = [
    def.generation,
    def.pause ?? null,
    def.jitterMs ?? null,
    def.concurrencyPolicy ?? null,
    def.originalName ?? null,
    def.resumedAt ?? null,
    def.inertPauseAfterFailures ?? null,
  ];
  return hash(encodedHead + JSON.stringify(beside));
}

/** The digest of what the slots depend on: when it changes, the new schedule starts from now. */
function timingDigest(def: TaskDefinition): string {
  return hash(
    JSON.stringify([
      def.schedule,
      def.timeZone,
      def.startTime ?? null,
      def.endTime ?? null,
      def.maxRuns ?? null,
    ]),
  );
}

/** The source's current object of a task (by task key), undefined once it is gone. */
export type CurrentObject = (key: string) => PeriodicTask | undefined;

// Writes in flight at once: enough to keep Redis busy. More keeps each write's garbage alive across
// young-generation collections, and the old generation (the resident size) grows with it.
const RECONCILE_CONCURRENCY = 64;

/** The log message and Event reason of a schedule's day note, by the kind of schedule that has one. */
const DAY_NOTE_KINDS = {
  crontab: ['crontab day fields', 'DayFieldsBothMatch'],
  cron: ['cron day fields', 'DayFieldsEitherMatch'],
  solar: ['solar event skips days', 'SolarEventSkipsDays'],
} as const;

export interface ReconcileSummary {
  failed: number;
  /** The tasks whose store write failed: retried alone, with backoff (the operator's WorkQueue). */
  failedKeys: string[];
  /** The tasks reconciled without error in this pass. */
  succeededKeys: string[];
}

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #clock: () => number;
  readonly #fenceToken: () => string;
  readonly #tasks = new Map<string, TaskRecord>();
  /** Full passes begun so far: a load from the store stops once one begins. */
  #fullPasses = 0;
  readonly #status: StatusProjection;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#status = new StatusProjection(options.status, this.#clock);
    this.#fenceToken = options.fenceToken ?? (() => '');
    // Counted at scrape time from the live state: a run or an edit shows at once, not at the next pass.
    observeSchedules(() => this.#countStates());
  }

  /**
   * One pass over the desired set. `verify` re-writes every key even when nothing changed, which
   * re-creates keys that vanished from Redis and re-reads run state written by another instance.
   * `complete` is false while part of the desired set could not be read: a task missing from it may still
   * exist, so it stops being dispatched but its key and run state are kept.
   */
  async reconcile(
    objects: PeriodicTask[],
    verify = false,
    complete = true,
    current?: CurrentObject,
  ): Promise<ReconcileSummary> {
    this.#fullPasses += 1;
    const desired = new Set<string>();
    for (const object of objects) desired.add(taskKeyOf(object));
    const summary = await this.#reconcileAll(objects, verify, current);
    const gone: string[] = [];
    for (const [key, record] of this.#tasks) {
      if (!desired.has(key) && (record.applied || record.invalid !== undefined)) gone.push(key);
    }
    await this.#removeAll(gone, complete, summary);
    // What is left of the others is what was last written to a key that is kept (#remove says when).
    for (const [key, record] of this.#tasks) if (!desired.has(key) && !record.applied) this.#forget(key);
    return summary;
  }

  /**
   * Reconciles just these tasks from their current objects (`current` gives undefined for one that is gone),
   * level-based per key: what the rest of the desired set costs does not grow with the edits. `verify`
   * re-writes their keys (the retry of tasks that failed).
   */
  async reconcileKeys(
    keys: Iterable<string>,
    current: CurrentObject,
    complete: boolean,
    verify = false,
  ): Promise<ReconcileSummary> {
    const present: PeriodicTask[] = [];
    const gone: string[] = [];
    for (const key of keys) {
      const object = current(key);
      if (object) present.push(object);
      else gone.push(key);
    }
    const summary = await this.#reconcileAll(present, verify, current);
    await this.#removeAll(gone, complete, summary);
    return summary;
  }

  async #reconcileAll(
    objects: PeriodicTask[],
    verify: boolean,
    current: CurrentObject | undefined,
  ): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { failed: 0, failedKeys: [], succeededKeys: [] };
    let work: Promise<void>[] = [];
    for (const object of objects) {
      const key = taskKeyOf(object);
      // Deleted since the pass began: the source's signal brings it back to be removed, never to be set.
      if (current && current(key) === undefined) continue;
      // Sources replace an object when it changes: the same object needs nothing, not even a promise.
      const record = this.#tasks.get(key);
      if (
        !verify &&
        record?.reconciledFrom === object &&
        record.policyVersion === this.#options.policies?.version
      )
        continue;
      work.push(
        this.#reconcileOne(key, object, verify, current).then(
          () => {
            summary.succeededKeys.push(key);
          },
          (error: unknown) => {
            this.#failed(summary, key, error, 'reconcile failed');
            const reason = `Redis: ${(error as Error).message}`;
            this.#project(object, { problem: readyCondition('False', 'StoreUnavailable', reason) });
          },
        ),
      );
      // Bounded concurrency: 100,000 writes in flight at once would cost memory for nothing.
      if (work.length === RECONCILE_CONCURRENCY) {
        await Promise.all(work);
        work = [];
        // A task found unchanged settles without I/O, so a pass over 100,000 of them (after a relist) would
        // be one turn of the event loop: no timer, no Lease renewal and no run for its whole length.
        await nextTurn();
      }
    }
    await Promise.all(work);
    return summary;
  }

  /** Tasks no longer in the desired set; a failed delete is retried for that key alone. */
  async #removeAll(keys: string[], complete: boolean, summary: ReconcileSummary): Promise<void> {
    for (const key of keys) {
      try {
        await this.#remove(key, complete);
        summary.succeededKeys.push(key);
      } catch (error) {
        this.#failed(summary, key, error, 'removing the task key failed');
      }
    }
  }

  async #remove(key: string, complete: boolean): Promise<void> {
    const applied = this.#tasks.get(key)?.applied;
    if (!applied) {
      this.#forget(key);
      return;
    }
    this.#tasks.set(key, newRecord(applied));
    this.#options.beat.delete(key);
    if (!complete) {
      // Written again, run state and all, when the unreadable part of the desired set brings it back.
      if (applied.dispatched) {
        await this.#hold(key, applied.uid);
        this.#options.logger.warn({ task: key }, 'task not in the readable manifests; paused, key kept');
      }
      applied.dispatched = false;
      return;
    }
    await this.#options.store.delete(key, applied.uid, this.#fenceToken());
    await this.#options.manualRuns?.forget(key);
    this.#forget(key);
    this.#options.logger.info({ task: key }, 'task removed');
  }

  /** Marks a kept key whose task is not dispatched, so that a new leader does not dispatch it from the store. */
  async #hold(key: string, uid: string | undefined): Promise<void> {
    if (uid !== undefined) await this.#options.store.hold?.(key, uid, this.#fenceToken());
  }

  /**
   * A new leader's first desired state, from the store: the definitions this operator wrote to its keys, handed
   * to the beat with their run state so that what is due goes out before the source has read the resources.
   * They are provisional: the first pass over the source's set replaces them (a changed one takes effect as
   * a change, one gone from the set is removed and its key deleted), and `withdrawGone` takes the tasks the
   * source no longer has out of the beat as soon as it says so. Nothing is written: the definitions in Redis
   * stay the reconciler's, written from the resources. Undefined when the store cannot read definitions back.
   * The store is read a page at a time: `onPage` is told of each page's tasks once they are in the beat (the
   * first page can start dispatching while later ones are read), and stops the load by returning false. Once
   * a full pass has begun the load stops too: the source then speaks for every task, and a page read before
   * the pass deleted a key would bring back a task that is gone.
   */
  async loadFromStore(
    onPage: (keys: ReadonlySet<string>) => boolean = () => true,
  ): Promise<{ loaded: number; skipped: number } | undefined> {
    const store = this.#options.store;
    if (!store.loadOwned) return undefined;
    const passes = this.#fullPasses;
    let loaded = 0;
    let skipped = 0;
    for await (const page of store.loadOwned()) {
      if (this.#fullPasses !== passes) break;
      skipped += page.skipped;
      const keys = this.#setLoaded(page.tasks);
      loaded += keys.size;
      if (!onPage(keys)) break;
    }
    return { loaded, skipped };
  }

  /** Hands loaded tasks to the beat; gives the keys it set. */
  #setLoaded(tasks: readonly LoadedTask[]): Set<string> {
    const set = new Set<string>();
    const operator = this.#options.store.operatorId;
    for (const { taskKey: key, def, state } of tasks) {
      // The source came first for this task (a pass already ran): its definition stands.
      if (this.#tasks.has(key)) continue;
      let schedule: Schedule;
      try {
        schedule = compileTaskSchedule(def);
      } catch {
        continue; // the reconciler reports it from the resource
      }
      const record = this.#record(key);
      record.applied = {
        uid: def.uid,
        digest: definitionDigest(def, encodeDefinitionHead(def, operator)),
        timing: timingDigest(def),
        dispatched: true,
      };
      this.#options.beat.set(key, { def, schedule, state }, true);
      set.add(key);
    }
    return set;
  }

  /**
   * Takes out of the beat at once the tasks the source says are gone (or another object under the same name),
   * before a pass reaches them: a deleted task never runs after its deletion reached this process. The pass
   * that follows deletes their keys (`keys`: those the source signalled; undefined: every task, after the
   * source's first complete read).
   */
  withdrawGone(current: CurrentObject, keys?: Iterable<string>): number {
    let withdrawn = 0;
    for (const key of keys ?? [...this.#tasks.keys()]) {
      const applied = this.#tasks.get(key)?.applied;
      const object = current(key);
      if (!applied?.dispatched || (object && (object.metadata.uid ?? '') === applied.uid)) continue;
      this.#options.beat.delete(key);
      applied.dispatched = false;
      withdrawn += 1;
    }
    return withdrawn;
  }

  /** Everything known of a task that is gone. */
  #forget(key: string): void {
    this.#tasks.delete(key);
  }

  #record(key: string): TaskRecord {
    let record = this.#tasks.get(key);
    if (!record) {
      record = newRecord(undefined);
      this.#tasks.set(key, record);
    }
    return record;
  }

  #failed(summary: ReconcileSummary, key: string, error: unknown, message: string): void {
    summary.failed += 1;
    summary.failedKeys.push(key);
    reconcileErrorsTotal.inc();
    this.#options.logger.error({ task: key, err: error }, message);
  }

  /**
   * Reports unreadable keys under the prefix, and deletes this operator's keys whose resource no longer
   * exists (left behind while the operator was down) unless `deleteOrphans` is false. Keys of other
   * operators sharing the Redis are never listed (the store's scope).
   */
  async prune(objects: PeriodicTask[], deleteOrphans = true): Promise<number> {
    const uids = new Map(objects.map((o) => [taskKeyOf(o), o.metadata.uid]));
    let pruned = 0;
    const { owned, invalid } = await this.#options.store.listOwned();
    invalidStoreKeys.set(invalid.length);
    for (const { redisKey, reason } of invalid) {
      this.#options.logger.warn({ key: redisKey, reason }, 'skipping unreadable Redis key');
    }
    if (!deleteOrphans) return 0;
    for (const { taskKey: key, owner } of owned) {
      if (uids.has(key) && uids.get(key) === owner.uid) continue;
      if (await this.#options.store.delete(key, owner.uid, this.#fenceToken())) {
        pruned += 1;
        this.#options.logger.info({ task: key }, 'pruned key of a resource that no longer exists');
      }
    }
    this.#options.logger.debug({ owned: owned.length, pruned }, 'prune pass done');
    return pruned;
  }

  async #reconcileOne(
    key: string,
    object: PeriodicTask,
    verify: boolean,
    current: CurrentObject | undefined,
  ): Promise<void> {
    const policyVersion = this.#options.policies?.version;
    if ((await this.#apply(key, object, verify, current)) === 'read-again') return;
    const record = this.#record(key);
    record.reconciledFrom = object;
    record.policyVersion = policyVersion;
  }

  /**
   * Brings one task's key and the beat in line with its object: the definition is written (the reconciler is
   * its only writer), the beat is handed the stored run state (the beat is its only writer from then on) with
   * the cursor move the change calls for, and the status is reported.
   */
  async #apply(
    key: string,
    object: PeriodicTask,
    verify: boolean,
    current: CurrentObject | undefined,
  ): Promise<'read-again' | undefined> {
    const result = validatePeriodicTask(object, {
      defaultTimeZone: this.#options.defaultTimeZone,
      handWritten: object.metadata.namespace === '',
      resultBackend: this.#options.resultBackend === true,
      // The store's prefix: no queue, exchange or routing key may address the task keys under it.
      keyPrefix: this.#options.store.redisKey(''),
    });
    if (!result.ok) {
      await this.#refuse(key, object, result.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
      return;
    }
    if (await this.#refusedByPolicy(key, object, result.definition)) return;
    if (await this.#heldForBroker(key, object, result.definition)) return;
    const record = this.#record(key);
    record.invalid = undefined;
    const def = result.definition;
    const encodedHead = encodeDefinitionHead(def, this.#options.store.operatorId);
    const digest = definitionDigest(def, encodedHead);
    const timing = timingDigest(def);
    const previous = record.applied;
    const same = previous?.uid === def.uid;
    // A hand-written key is handed over again only when the user wrote it: its tail may need adopting.
    if (!verify && same && previous.dispatched && previous.digest === digest && !isHandWritten(def)) {
      this.#requestManualRuns(key, object, def);
      return;
    }
    if (previous && !same) {
      // Deleted and re-created under the same name: a new task, with a new key.
      this.#options.beat.delete(key);
      await this.#options.store.delete(key, previous.uid, this.#fenceToken());
    }
    const now = this.#clock();
    const before = same ? this.#options.beat.get(key) : undefined;
    const written = await this.#writeDefinition(key, object, def, encodedHead, before?.state, now);
    if (written === undefined) return 'read-again';
    if (written === 'foreign') return;
    if (current && current(key) === undefined) {
      // Deleted while its key was written: the key is removed by the reconcile of that deletion, the task
      // never handed to the beat.
      record.applied = { uid: def.uid, digest, timing, dispatched: false };
      return 'read-again';
    }
    const schedule = compileTaskSchedule(def);
    const move = cursorMoveOf(same && previous.timing !== timing, before?.def, def, now);
    const changed = !same || !previous.dispatched || previous.digest !== digest;
    this.#options.beat.set(key, { def, schedule, state: written.state }, changed, move);
    record.applied = { uid: def.uid, digest, timing, dispatched: true };
    if (written.status === 'created') this.#options.manualRuns?.created(key, written.state.cursor);
    this.#requestManualRuns(key, object, def);
    this.#tellDayNote(key, object, def, schedule, written.state);
    if (written.status !== 'unchanged' || !previous) {
      this.#options.logger.info(
        { namespace: def.namespace, name: def.name, change: written.status },
        'task reconciled',
      );
    }
    this.#reportApplied(key, object, def, schedule);
  }

  /**
   * An invalid spec: not dispatched, but the key and its run state stay, so a fix carries on from them. The
   * key is marked held, once per distinct message, so that no new leader dispatches what it still holds.
   */
  async #refuse(key: string, object: PeriodicTask, message: string): Promise<void> {
    this.#options.beat.delete(key);
    const record = this.#record(key);
    if (record.applied) record.applied.dispatched = false;
    if (record.invalid !== message) {
      await this.#hold(key, object.metadata.uid);
      record.invalid = message;
      this.#options.logger.warn(
        { namespace: object.metadata.namespace, name: object.metadata.name, reason: message },
        'invalid PeriodicTask',
      );
      this.#options.events.warning(refOf(object), 'InvalidSpec', message);
    }
    this.#project(object, { definition: { invalid: message, generation: object.metadata.generation } });
  }

  /**
   * Writes the definition, keeping the stored run state. A key that is gone gets the run state this process
   * knows, else one recovered from the status (logged and counted), else the imported one, else a fresh one.
   * Undefined: a hand-written key to read again; "foreign": the key is someone else's (reported).
   */
  async #writeDefinition(
    key: string,
    object: PeriodicTask,
    def: TaskDefinition,
    encodedHead: string,
    known: RunState | undefined,
    now: number,
  ): Promise<Written | 'foreign' | undefined> {
    const recovered = known || isHandWritten(def) ? undefined : recoverFromStatus(object.status, now);
    const initial = known ?? recovered ?? carriedOverState(def) ?? freshState(initialCursor(def, now));
    const upsert = isHandWritten(def)
      ? await this.#adopt(key, initial, known)
      : await this.#options.store.upsert(def, initial, encodedHead, this.#fenceToken());
    if (upsert === undefined) return undefined;
    if (upsert.status === 'foreign') {
      const message = `Redis key ${this.#options.store.redisKey(key)} exists and is not managed by this resource`;
      this.#options.logger.warn(
        { namespace: def.namespace, name: def.name, reason: message },
        'task not dispatched',
      );
      // Taken over while dispatched (found by the beat): it stops being dispatched.
      this.#options.beat.delete(key);
      this.#project(object, { problem: readyCondition('False', 'KeyConflict', message), noNextRun: true });
      this.#options.events.warning(refOf(object), 'KeyConflict', message);
      return 'foreign';
    }
    // The key was gone, or had lost its run state: what it holds now is what was recovered.
    if (recovered && isDeepStrictEqual(upsert.state, recovered)) {
      runStateRecoveriesTotal.inc();
      this.#options.logger.warn(
        {
          namespace: def.namespace,
          name: def.name,
          lastRunAt: object.status?.lastRunAt ?? null,
          resumesAt: new Date(recovered.cursor).toISOString(),
          totalRunCount: recovered.totalRunCount,
        },
        'task key was gone from Redis: run state recovered from the status; slots before the recovery are not run',
      );
    }
    return upsert;
  }

  /** The status of a task just handed to the beat, from the beat's run state and problem. */
  #reportApplied(key: string, object: PeriodicTask, def: TaskDefinition, schedule: Schedule): void {
    const task = this.#options.beat.get(key);
    if (!task) return;
    // A resync must not show a task as Scheduled while its slots still fail to go out.
    const problem = this.#options.beat.problemOf(key);
    this.#project(object, {
      definition: { def, schedule, observed: true },
      run: { state: task.state, nextRunAt: this.#options.beat.nextRunAt(key) },
      ...(problem ? { problem: readyCondition('False', problem.problem, problem.reason) } : {}),
    });
  }

  /**
   * The policy hook: a valid task that violates an `Enforce` policy of its namespace is handled like an invalid
   * spec (not dispatched, its key and run state kept; Ready False/PolicyViolation, a Warning Event once per
   * distinct message); `Warn` violations are a Warning Event once per distinct message, and the task runs.
   */
  async #refusedByPolicy(key: string, object: PeriodicTask, def: TaskDefinition): Promise<boolean> {
    if (!this.#options.policies) return false;
    const verdict = this.#options.policies.evaluate({
      def,
      annotations: object.metadata.annotations,
      status: object.status,
    });
    const record = this.#record(key);
    const warning = verdict.warned.length > 0 ? describeViolations(verdict.warned) : undefined;
    if (warning !== undefined && warning !== record.policyWarning) {
      policyViolationsTotal.inc({ task_namespace: def.namespace, mode: 'Warn' });
      this.#options.logger.warn(
        { namespace: def.namespace, name: def.name, reason: warning },
        'PeriodicTask policy warning',
      );
      this.#options.events.warning(refOf(object), 'PolicyWarning', warning);
    }
    record.policyWarning = warning;
    if (verdict.enforced.length === 0) return false;
    const message = describeViolations(verdict.enforced);
    await this.#holdBack(key, object, def, 'PolicyViolation', message);
    return true;
  }

  /**
   * A task whose policies name a broker that cannot be used now (its Secret is missing, lacks the key, cannot
   * be read, or holds no broker URL) is held back like a violating one: nothing of it is published, Ready
   * False naming the Secret and key. A change of the Secret re-checks every task, so it resumes by itself.
   */
  async #heldForBroker(key: string, object: PeriodicTask, def: TaskDefinition): Promise<boolean> {
    const route = this.#options.brokers?.routeOf(def.namespace);
    if (!route || route.ok) return false;
    await this.#holdBack(key, object, def, route.reason, route.message);
    return true;
  }

  /** Not dispatched, its key and run state kept; Ready False, a Warning Event and a log line once per message. */
  async #holdBack(
    key: string,
    object: PeriodicTask,
    def: TaskDefinition,
    reason: 'PolicyViolation' | 'BrokerSecretUnavailable',
    message: string,
  ): Promise<void> {
    const record = this.#record(key);
    this.#options.beat.delete(key);
    if (record.applied) record.applied.dispatched = false;
    if (record.invalid !== message) {
      await this.#hold(key, def.uid);
      record.invalid = message;
      if (reason === 'PolicyViolation')
        policyViolationsTotal.inc({ task_namespace: def.namespace, mode: 'Enforce' });
      this.#options.logger.warn(
        { namespace: def.namespace, name: def.name, reason: message },
        reason === 'PolicyViolation'
          ? 'PeriodicTask violates a policy'
          : 'PeriodicTask held back: its broker cannot be used',
      );
      this.#options.events.warning(refOf(object), reason, message);
    }
    this.#project(object, {
      definition: { def, observed: true },
      problem: readyCondition('False', reason, message),
      noNextRun: true,
    });
  }

  /**
   * A hand-written key keeps the user's definition; only its run state is put in the tail. Undefined when the
   * key is gone or was written meanwhile: the beat keeps what it has (its dispatches find no tail and wait)
   * until the Redis source hands the key over again.
   */
  async #adopt(
    key: string,
    initial: RunState,
    known: RunState | undefined,
  ): Promise<UpsertResult | undefined> {
    if (!this.#options.handWritten) throw new Error('hand-written keys need --redis-schedules');
    const adopted = await this.#options.handWritten.adopt(key, initial, known);
    if (adopted.status === 'adopted' || adopted.status === 'unchanged') {
      return { status: adopted.status === 'adopted' ? 'updated' : 'unchanged', state: adopted.state };
    }
    if (adopted.status === 'foreign') return { status: 'foreign' };
    this.#options.logger.info(
      { key: this.#options.store.redisKey(key), change: adopted.status },
      'hand-written key changed while being read; read again at the next scan',
    );
    return undefined;
  }

  /** Hands the run-now and backfill annotations of a valid task to ManualRuns, with the beat's view of it. */
  #requestManualRuns(key: string, object: PeriodicTask, def: TaskDefinition): void {
    const task = this.#options.beat.get(key);
    const annotations = object.metadata.annotations;
    if (!this.#options.manualRuns || !task || !annotations || isHandWritten(def)) return;
    this.#options.manualRuns.request({
      def,
      schedule: task.schedule,
      state: task.state,
      annotations,
      status: object.status,
    });
  }

  /** A day note (day fields Celery and a CronJob read differently; a solar event that skips days): logged (standalone's only stream) and an Event. */
  #tellDayNote(key: string, object: PeriodicTask, def: TaskDefinition, schedule: Schedule, state: RunState) {
    const note = dayNote(def);
    const record = this.#record(key);
    if (note === (record.note ?? null)) return;
    record.note = note ?? undefined;
    if (note === null) return;
    const message = noteWithNextRuns(note, schedule, state.cursor);
    const [what, reason] =
      DAY_NOTE_KINDS[
        def.schedule.kind === 'cron' || def.schedule.kind === 'solar' ? def.schedule.kind : 'crontab'
      ];
    this.#options.logger.info({ namespace: def.namespace, name: def.name, note: message }, what);
    this.#options.events.normal(refOf(object), reason, message);
  }

  #project(object: PeriodicTask, inputs: Omit<StatusInputs, 'now'>): void {
    this.#status.project(namespaceOf(object.metadata), object.metadata.name, inputs);
  }

  /** The tasks the beat holds, by the same rule as their Ready condition, and the invalid ones. */
  #countStates(): Record<ScheduleState | 'invalid', number> {
    const counts = { scheduled: 0, disabled: 0, paused: 0, completed: 0, invalid: 0 };
    const now = this.#clock();
    for (const [key, record] of this.#tasks) {
      if (record.invalid !== undefined) counts.invalid += 1;
      else if (record.applied) {
        const task = this.#options.beat.get(key);
        if (task) counts[scheduleState(task.def, task.state, now, task.schedule)] += 1;
      }
    }
    return counts;
  }
}

function newRecord(applied: Applied | undefined): TaskRecord {
  return {
    applied,
    invalid: undefined,
    reconciledFrom: undefined,
    note: undefined,
    policyVersion: undefined,
    policyWarning: undefined,
  };
}

function freshState(cursor: number): RunState {
  return {
    cursor,
    totalRunCount: 0,
    lastTaskId: null,
    lastTaskSlot: null,
    missedRunCount: 0,
    pausedRunCount: 0,
  };
}

/** Run state brought from another scheduler (the import annotations): its last run is the cursor. */
function carriedOverState(def: TaskDefinition): RunState | undefined {
  const carried = def.carriedOver;
  if (!carried) return undefined;
  return { ...freshState(carried.lastRunAt), totalRunCount: carried.totalRunCount };
}

/**
 * Run state read back from the resource's status, for a key that is gone while no process knows its run state.
 * The status may lag the runs it shows: the cursor starts at the recovery (`now`), never before the status's
 * last run, so a slot the previous leader ran after its last status write is not run again, and the counts
 * start from what the status shows, never below it. Undefined when the status shows no run state.
 */
function recoverFromStatus(status: PeriodicTaskStatus | undefined, now: number): RunState | undefined {
  if (!status) return undefined;
  const lastRun = status.lastRunAt === undefined ? Number.NaN : Date.parse(status.lastRunAt);
  const counts = [status.totalRunCount, status.missedRunCount, status.pausedRunCount, status.unknownRunCount];
  if (Number.isNaN(lastRun) && !counts.some((count) => (count ?? 0) > 0)) return undefined;
  return {
    cursor: Number.isNaN(lastRun) ? now : Math.max(lastRun, now),
    totalRunCount: status.totalRunCount ?? 0,
    lastTaskId: status.lastTaskId ?? null,
    lastTaskSlot: Number.isNaN(lastRun) ? null : lastRun,
    missedRunCount: status.missedRunCount ?? 0,
    pausedRunCount: status.pausedRunCount ?? 0,
    ...(status.unknownRunCount ? { unknownRunCount: status.unknownRunCount } : {}),
    ...(status.consecutiveFailures === undefined ? {} : { failures: failuresFromStatus(status, now) }),
  };
}

/**
 * The failures in a row the status shows: counted up to the recovery (results of earlier runs are not counted
 * again), the last one named by lastResult when that is it.
 */
function failuresFromStatus(status: PeriodicTaskStatus, now: number): ConsecutiveFailures {
  const last = status.lastResult?.state === 'FAILURE' ? status.lastResult : undefined;
  const exception = exceptionType(last?.error ?? null);
  return {
    count: status.consecutiveFailures as number,
    slot: now,
    taskId: last?.taskId ?? '',
    ...(exception === undefined ? {} : { exception }),
  };
}

/**
 * The cursor move a definition change calls for, made by the beat: a changed schedule (what the slots depend
 * on differs from what was written before) takes effect from now, so slots of the new schedule before now are
 * not missed; a resume (the definition the beat held was paused, the new one is not) counts the slots that
 * fell inside the pause as paused ones.
 */
function cursorMoveOf(
  scheduleChanged: boolean,
  dispatched: TaskDefinition | undefined,
  def: TaskDefinition,
  now: number,
): CursorMove | undefined {
  if (scheduleChanged) return { reason: 'schedule-changed', at: now };
  if (dispatched && isPaused(dispatched, now) && !isPaused(def, now)) return { reason: 'resumed', at: now };
  return undefined;
}
