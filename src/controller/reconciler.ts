// Brings the store and the beat in line with the desired set of PeriodicTasks. Level-based: a pass starts from
// current objects (the whole list, or the current object of each changed task), never from what an event
// said; a pass that finds nothing changed writes nothing.
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PeriodicTask, PeriodicTaskStatus, TaskDefinition } from '../api/types.ts';
import { isHandWritten, taskKey } from '../api/types.ts';
import type { Beat } from '../beat/beat.ts';
import type { ManualRuns } from '../beat/manual-runs.ts';
import type {
  HandWrittenKeys,
  RunState,
  StatusSink,
  StatusUpdate,
  TaskEvents,
  TaskStore,
  UpsertResult,
} from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { invalidStoreKeys, observeSchedules, reconcileErrorsTotal } from '../observe/metrics.ts';
import { compileSchedule } from '../schedule/compile.ts';
import { isPaused } from '../schedule/completion.ts';
import { initialCursor } from '../schedule/cursor.ts';
import { describeSchedule } from '../schedule/describe.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { encodeDefinitionHead } from '../store/task-record.ts';
import { validatePeriodicTask } from '../validation/validate.ts';
import {
  dayNote,
  noteWithNextRuns,
  readyCondition,
  readyOf,
  refOf,
  runStatus,
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
  clock?: () => number;
}

/** What was last written for a task, as digests: a schedule costs memory once per 100,000 tasks. */
interface Applied {
  uid: string;
  head: string;
  /** What the slots depend on: when it changes, the new schedule starts from now, not from the old cursor. */
  timing: string;
}

function digest(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

// Writes in flight at once: enough to keep Redis busy. More keeps each write's garbage alive across
// young-generation collections, and the old generation (the resident size) grows with it: 267 MB
// resident after loading 100,000 tasks at 64, 427 MB at 500.
const RECONCILE_CONCURRENCY = 64;

export interface ReconcileSummary {
  failed: number;
  /** The tasks whose store write failed: retried alone, with backoff (see RetryQueue). */
  failedKeys: string[];
  /** The tasks reconciled without error in this pass. */
  succeededKeys: string[];
}

export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #clock: () => number;
  readonly #applied = new Map<string, Applied>();
  readonly #invalid = new Map<string, string>();
  /** The object each task was last reconciled from: sources replace an object when it changes. */
  readonly #reconciledFrom = new Map<string, PeriodicTask>();
  /** The day note last told per task, so each distinct note is an Event once. */
  readonly #notes = new Map<string, string>();

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    // Counted at scrape time from the live state: a run or an edit shows at once, not at the next pass.
    observeSchedules(() => this.#countStates());
  }

  /**
   * One pass over the desired set. `verify` re-writes every key even when nothing changed, which
   * re-creates keys that vanished from Redis and re-reads run state written by another instance.
   * `complete` is false while part of the desired set could not be read: a task missing from it may still
   * exist, so it stops being dispatched but its key and run state are kept.
   */
  async reconcile(objects: PeriodicTask[], verify = false, complete = true): Promise<ReconcileSummary> {
    const desired = new Set<string>();
    for (const object of objects) desired.add(keyOf(object));
    const summary = await this.#reconcileAll(objects, verify);
    // A task can be in both (valid once, invalid now): each key is removed once.
    const known = new Set([...this.#applied.keys(), ...this.#invalid.keys()]);
    const gone = [...known].filter((key) => !desired.has(key));
    await this.#removeAll(gone, complete, summary);
    for (const key of this.#reconciledFrom.keys()) if (!desired.has(key)) this.#reconciledFrom.delete(key);
    for (const key of this.#notes.keys()) if (!desired.has(key)) this.#notes.delete(key);
    return summary;
  }

  /**
   * Reconciles just these tasks from their current objects (`current` gives undefined for one that is gone),
   * level-based per key: what the rest of the desired set costs does not grow with the edits. `verify`
   * re-writes their keys (the retry of tasks that failed).
   */
  async reconcileKeys(
    keys: Iterable<string>,
    current: (key: string) => PeriodicTask | undefined,
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
    const summary = await this.#reconcileAll(present, verify);
    await this.#removeAll(gone, complete, summary);
    return summary;
  }

  async #reconcileAll(objects: PeriodicTask[], verify: boolean): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { failed: 0, failedKeys: [], succeededKeys: [] };
    let work: Promise<void>[] = [];
    for (const object of objects) {
      const key = keyOf(object);
      // Sources replace an object when it changes: the same object needs nothing, not even a promise.
      if (!verify && this.#reconciledFrom.get(key) === object) continue;
      work.push(
        this.#reconcileOne(key, object, verify).then(
          () => {
            summary.succeededKeys.push(key);
          },
          (error: unknown) => {
            this.#failed(summary, key, error, 'reconcile failed');
            this.#report(object, {
              ready: readyCondition('False', 'StoreUnavailable', `Redis: ${(error as Error).message}`),
            });
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
    this.#invalid.delete(key);
    this.#reconciledFrom.delete(key);
    this.#notes.delete(key);
    const applied = this.#applied.get(key);
    if (!applied) return;
    this.#o.beat.delete(key);
    if (!complete) {
      // Written again, run state and all, when the unreadable part of the desired set brings it back.
      if (applied.head !== '')
        this.#o.logger.warn({ task: key }, 'task not in the readable manifests; paused, key kept');
      applied.head = '';
      return;
    }
    await this.#o.store.delete(key, applied.uid);
    await this.#o.manualRuns?.forget(key);
    this.#applied.delete(key);
    this.#o.logger.info({ task: key }, 'task removed');
  }

  #failed(summary: ReconcileSummary, key: string, error: unknown, message: string): void {
    summary.failed += 1;
    summary.failedKeys.push(key);
    reconcileErrorsTotal.inc();
    this.#o.logger.error({ task: key, err: error }, message);
  }

  /**
   * Reports unreadable keys under the prefix, and deletes owned keys whose resource no longer exists (left
   * behind while the operator was down) unless `deleteOrphans` is false.
   */
  async prune(objects: PeriodicTask[], deleteOrphans = true): Promise<number> {
    const uids = new Map(objects.map((o) => [keyOf(o), o.metadata.uid]));
    let pruned = 0;
    const { owned, invalid } = await this.#o.store.listOwned();
    invalidStoreKeys.set(invalid.length);
    for (const { redisKey, reason } of invalid) {
      this.#o.logger.warn({ key: redisKey, reason }, 'skipping unreadable Redis key');
    }
    if (!deleteOrphans) return 0;
    for (const { taskKey: key, owner } of owned) {
      if (uids.has(key) && uids.get(key) === owner.uid) continue;
      if (await this.#o.store.delete(key, owner.uid)) {
        pruned += 1;
        this.#o.logger.info({ task: key }, 'pruned key of a resource that no longer exists');
      }
    }
    return pruned;
  }

  async #reconcileOne(key: string, object: PeriodicTask, verify: boolean): Promise<void> {
    if ((await this.#apply(key, object, verify)) === 'read-again') return;
    this.#reconciledFrom.set(key, object);
  }

  async #apply(key: string, object: PeriodicTask, verify: boolean): Promise<'read-again' | undefined> {
    const result = validatePeriodicTask(object, {
      defaultTimeZone: this.#o.defaultTimeZone,
      handWritten: object.metadata.namespace === '',
      resultBackend: this.#o.resultBackend === true,
    });
    if (!result.ok) {
      const message = result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      // Not dispatched, but the key and its run state stay: a fix of the spec carries on from them.
      this.#o.beat.delete(key);
      const applied = this.#applied.get(key);
      if (applied) applied.head = '';
      if (this.#invalid.get(key) !== message) {
        this.#invalid.set(key, message);
        this.#o.logger.warn(
          { namespace: object.metadata.namespace, name: object.metadata.name, reason: message },
          'invalid PeriodicTask',
        );
        this.#o.events.warning(refOf(object), 'InvalidSpec', message);
      }
      // Nothing of the old schedule holds any more: SCHEDULE says "invalid" and there is no next run.
      this.#report(object, {
        observedGeneration: object.metadata.generation,
        schedule: 'invalid',
        nextRunAt: null,
        ready: readyCondition('False', 'InvalidSpec', message),
      });
      return;
    }
    this.#invalid.delete(key);
    const def = result.definition;
    const encodedHead = encodeDefinitionHead(def);
    // What the Redis value does not hold but the beat and the status depend on: a change must reconcile too.
    const head = digest(
      encodedHead +
        JSON.stringify([
          def.generation,
          def.pause ?? null,
          def.jitterMs ?? null,
          def.concurrencyPolicy ?? null,
        ]),
    );
    const timing = digest(JSON.stringify([def.schedule, def.timeZone, def.startTime ?? null]));
    const previous = this.#applied.get(key);
    // A hand-written key is handed over again only when the user wrote it: its tail may need adopting.
    if (!verify && previous?.head === head && previous.uid === def.uid && !isHandWritten(def)) {
      this.#requestManualRuns(key, object, def);
      return;
    }

    if (previous && previous.uid !== def.uid) {
      // Deleted and re-created under the same name: a new task, with a new key.
      this.#o.beat.delete(key);
      await this.#o.store.delete(key, previous.uid);
    }
    const now = this.#clock();
    const known = previous?.uid === def.uid ? this.#o.beat.get(key)?.state : undefined;
    const initial =
      known ?? stateFromStatus(object.status) ?? carriedOverState(def) ?? freshState(initialCursor(def, now));
    const upsert = isHandWritten(def)
      ? await this.#adopt(key, initial, known)
      : await this.#o.store.upsert(def, initial, encodedHead);
    if (upsert === undefined) return 'read-again';
    if (upsert.status === 'foreign') {
      const message = `Redis key ${this.#o.store.redisKey(key)} exists and is not managed by this resource`;
      this.#o.logger.warn(
        { namespace: def.namespace, name: def.name, reason: message },
        'task not dispatched',
      );
      this.#report(object, { nextRunAt: null, ready: readyCondition('False', 'KeyConflict', message) });
      this.#o.events.warning(refOf(object), 'KeyConflict', message);
      return;
    }
    let state = upsert.state;
    if (previous && previous.uid === def.uid && previous.timing !== timing && state.cursor < now) {
      // A changed schedule takes effect from now on: slots of the new schedule before now are not "missed".
      const moved = { ...state, cursor: now };
      const [claim] = await this.#o.store.dispatch([{ taskKey: key, expected: state, next: moved }]);
      if (claim?.status === 'ok') state = moved;
      else if (claim?.status === 'conflict') state = claim.stored;
    }
    const schedule = compileSchedule(def.schedule, def.timeZone);
    const before = previous?.uid === def.uid ? this.#o.beat.get(key) : undefined;
    let pausedRunCount = before?.pausedRunCount ?? object.status?.pausedRunCount;
    if (before && isPaused(before.def, now) && !isPaused(def, now)) {
      // Resumed by an edit: the slots that fell inside the pause are paused ones, not missed ones.
      const inPause = schedule.latest(state.cursor, now);
      if (inPause) {
        const moved = { ...state, cursor: inPause.slot };
        const [claim] = await this.#o.store.dispatch([{ taskKey: key, expected: state, next: moved }]);
        if (claim?.status === 'ok') {
          state = moved;
          pausedRunCount = (pausedRunCount ?? 0) + inPause.count;
        } else if (claim?.status === 'conflict') state = claim.stored;
      }
    }
    this.#o.beat.set(key, {
      def,
      schedule,
      state,
      ...(pausedRunCount === undefined ? {} : { pausedRunCount }),
    });
    this.#applied.set(key, { uid: def.uid, head, timing });
    if (upsert.status === 'created') this.#o.manualRuns?.created(key, state.cursor);
    this.#requestManualRuns(key, object, def);
    this.#tellDayNote(key, object, def, schedule, state);
    if (upsert.status !== 'unchanged' || !previous) {
      this.#o.logger.info(
        { namespace: def.namespace, name: def.name, change: upsert.status },
        'task reconciled',
      );
    }
    this.#report(object, {
      observedGeneration: def.generation,
      schedule: describeSchedule(def.schedule, def.timeZone),
      ...runStatus(state, this.#o.beat.nextRunAt(key), pausedRunCount),
      ready: readyOf(def, state, schedule, now),
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
    if (!this.#o.handWritten) throw new Error('hand-written keys need --redis-schedules');
    const adopted = await this.#o.handWritten.adopt(key, initial, known);
    if (adopted.status === 'adopted' || adopted.status === 'unchanged') {
      return { status: adopted.status === 'adopted' ? 'updated' : 'unchanged', state: adopted.state };
    }
    if (adopted.status === 'foreign') return { status: 'foreign' };
    this.#o.logger.info(
      { key: this.#o.store.redisKey(key), change: adopted.status },
      'hand-written key changed while being read; read again at the next scan',
    );
    return undefined;
  }

  /** Hands the run-now and backfill annotations of a valid task to ManualRuns, with the beat's view of it. */
  #requestManualRuns(key: string, object: PeriodicTask, def: TaskDefinition): void {
    const task = this.#o.beat.get(key);
    const annotations = object.metadata.annotations;
    if (!this.#o.manualRuns || !task || !annotations || isHandWritten(def)) return;
    this.#o.manualRuns.request({
      def,
      schedule: task.schedule,
      state: task.state,
      annotations,
      status: object.status,
    });
  }

  /** A crontab whose day fields a CronJob would read differently: logged (standalone's only stream) and an Event. */
  #tellDayNote(key: string, object: PeriodicTask, def: TaskDefinition, schedule: Schedule, state: RunState) {
    const note = dayNote(def);
    if (note === (this.#notes.get(key) ?? null)) return;
    if (note === null) {
      this.#notes.delete(key);
      return;
    }
    this.#notes.set(key, note);
    const message = noteWithNextRuns(note, schedule, state.cursor);
    this.#o.logger.info({ namespace: def.namespace, name: def.name, note: message }, 'crontab day fields');
    this.#o.events.normal(refOf(object), 'DayFieldsBothMatch', message);
  }

  #report(object: PeriodicTask, update: StatusUpdate): void {
    this.#o.status.report(object.metadata.namespace ?? 'default', object.metadata.name, update);
  }

  /** The tasks the beat holds, by the same rule as their Ready condition, and the invalid ones. */
  #countStates(): Record<ScheduleState | 'invalid', number> {
    const counts = { scheduled: 0, disabled: 0, paused: 0, completed: 0, invalid: this.#invalid.size };
    const now = this.#clock();
    for (const key of this.#applied.keys()) {
      const task = this.#invalid.has(key) ? undefined : this.#o.beat.get(key);
      if (task) counts[scheduleState(task.def, task.state, now)] += 1;
    }
    return counts;
  }
}

function keyOf(object: PeriodicTask): string {
  return taskKey(object.metadata.namespace ?? 'default', object.metadata.name);
}

function freshState(cursor: number): RunState {
  return { cursor, totalRunCount: 0, lastTaskId: null, lastTaskSlot: null, missedRunCount: 0 };
}

/** Run state brought from another scheduler (the import annotations): its last run is the cursor. */
function carriedOverState(def: TaskDefinition): RunState | undefined {
  const carried = def.carriedOver;
  if (!carried) return undefined;
  return {
    cursor: carried.lastRunAt,
    totalRunCount: carried.totalRunCount,
    lastTaskId: null,
    lastTaskSlot: null,
    missedRunCount: 0,
  };
}

/** Run state mirrored in the resource's status, used when the Redis key is gone: nothing is lost. */
function stateFromStatus(status: PeriodicTaskStatus | undefined): RunState | undefined {
  if (!status?.lastRunAt || !status.totalRunCount) return undefined;
  const lastRun = Date.parse(status.lastRunAt);
  if (Number.isNaN(lastRun)) return undefined;
  return {
    cursor: lastRun,
    totalRunCount: status.totalRunCount,
    lastTaskId: status.lastTaskId ?? null,
    lastTaskSlot: lastRun,
    missedRunCount: status.missedRunCount ?? 0,
  };
}
