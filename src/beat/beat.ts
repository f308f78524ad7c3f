// The dispatch loop: a due-time queue over every enabled task, woken for the earliest slot. Each wake-up
// plans the due slots (at most one run per task, by its catchUp policy; slots not run counted as missed),
// dispatches them in one batch and re-queues each task at its next slot (at once while catchUp All has slots
// left to run).
import { isHandWritten, type TaskDefinition } from '../api/types.ts';
import { buildTaskMessage } from '../celery/message.ts';
import { UnsafeMessageError } from '../celery/message-check.ts';
import { taskIdForSlot } from '../celery/task-id.ts';
import type {
  FinishedRun,
  OverlapGuard,
  PlannedSlot,
  RunState,
  SlotDispatcher,
  SlotOutcome,
  SlotRange,
} from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import {
  dispatchesTotal,
  dispatchLatenessSeconds,
  missedRunsTotal,
  namespaceSlotsTotal,
  namespaceThrottledTotal,
  pausedRunsTotal,
  replacedRunsTotal,
  skippedRunsTotal,
} from '../observe/metrics.ts';
import { type CatchUpRule, planSlots } from '../schedule/catch-up.ts';
import { isCompleted, isPaused } from '../schedule/completion.ts';
import {
  applyFailureResults,
  isPausedByFailures,
  resumeOwed,
  sameFailures,
} from '../schedule/failure-pause.ts';
import { runTimeOf } from '../schedule/jitter.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { type BackoffPolicy, KeyedBackoff } from '../workqueue/backoff.ts';
import { StoreUnavailableError } from './dispatch-failure.ts';
import { DueQueue } from './due-queue.ts';
import { NamespaceRates } from './namespace-rates.ts';
import { ABANDONED_CLAIM_MS, claimedState, settledAsUnknown } from './slot-dispatcher.ts';

export interface BeatTask {
  def: TaskDefinition;
  schedule: Schedule;
  state: RunState;
}

/**
 * A cursor move a definition change calls for, made by the beat as the task's next recorded slot (so that it
 * is fenced and compared like any other): after a schedule change the slots of the new schedule before `at`
 * are not missed, the cursor moves to `at`; after a resume the slots up to `at` fell inside the pause and are
 * counted as paused.
 */
export interface CursorMove {
  reason: 'schedule-changed' | 'resumed';
  at: number;
}

/** Why a task's slot could not go out; becomes the Ready condition's reason. */
export type BeatProblem = 'MessageRejected' | 'PublishFailed' | 'DispatchError' | 'StoreUnavailable';

/** Since when due slots have waited for a dispatch that answers, and why (for /healthz). */
export interface DispatchStall {
  since: number;
  reason: string;
}

/** What the beat tells the status layer after it recorded a slot, or could not send one. */
export interface BeatListener {
  recorded(def: TaskDefinition, state: RunState, nextRunAt: number | null): void;
  /** Once per distinct problem of a task, until one of its slots is recorded again. */
  rejected(def: TaskDefinition, reason: string, problem?: BeatProblem): void;
  /** The store refused a dispatch because the fence key does not hold this process's token. */
  fenced(): void;
  /** A run went out (the broker has it): its task id and slot, and when it was published. */
  sent?(def: TaskDefinition, taskId: string, slot: number, sentAt: number): void;
  /** A slot was recorded as missed on purpose (concurrencyPolicy Forbid); `reason` says why. */
  skipped?(def: TaskDefinition, state: RunState, nextRunAt: number | null, reason: string): void;
  /** The recorded state pauses the task by its failures in a row (spec.pauseAfterFailures), where it did not. */
  pausedByFailures?(def: TaskDefinition, state: RunState): void;
}

export interface BeatOptions {
  dispatcher: SlotDispatcher;
  listener: BeatListener;
  logger: Logger;
  clock?: () => number;
  /** The fence token of the leader, carried by every write to the store ("" when not fenced). */
  fenceToken?: () => string;
  /** Slots handled per wake-up. */
  batchSize?: number;
  /**
   * Wait before a task whose slot could not go out (or whose key could not be restored) is tried again: its
   * own backoff, from initialMs doubling to maxMs, until one of its slots is recorded.
   */
  retryBackoff?: BackoffPolicy;
  /** The jitter's source of the retry backoff (tests fix it; 1 gives the unjittered delay). */
  random?: () => number;
  /** Keeps runs of Forbid and Replace tasks from overlapping (`--result-backend`); absent: they may overlap. */
  overlap?: OverlapGuard;
  /** Told of slots accounted for without a run (missed, skipped, paused), which a backfill may run. */
  unrun?: (taskKey: string, range: SlotRange) => void;
  /** A namespace's most runs per second (a policy's maxRunsPerSecond), or undefined for no limit. */
  runsPerSecond?: (namespace: string) => number | undefined;
  /** The most slots a catchUp All task runs after one gap (`--max-backfill`), the latest ones. */
  maxBackfill?: number;
  /**
   * A task's key is gone from Redis (or lost its run state): the owner of definitions (the reconciler) writes it
   * again with the run state the beat holds (`get`). The beat never writes a definition; it retries the task.
   */
  keyMissing?: (taskKey: string) => void;
}

/** Without a result backend no task has a concurrencyPolicy (the validator refuses it): runs as Allow. */
const NO_OVERLAP_GUARD: OverlapGuard = {
  unfinished: async () => new Set(),
  revoke: async () => {},
};

/** The shortest stretch of unrun slots recorded for backfill. */
const UNRUN_MIN_MS = 1000;

/** Longest sleep: bounds how long a stalled timer (suspended VM, clock jump) can delay a slot. */
const MAX_SLEEP_MS = 1000;

/** Batches dispatched at once: while Redis runs one, the next is being built. */
const MAX_IN_FLIGHT = 2;

/** A task whose slot could not even be planned (a defect, not a broker problem) is tried again this late. */
const PLAN_FAILURE_RETRY_MS = 30_000;

/** Failed batches further apart than this (a failing slot is retried at most retryBackoff.maxMs later) are not one stall. */
const STALL_GAP_MIN_MS = 10_000;

type Planned = {
  key: string;
  task: BeatTask;
  slot: PlannedSlot;
  run: number | null;
  /** Why the slot is recorded without a run (concurrencyPolicy Forbid). */
  skipped?: string;
  /** Slots of a pause this plan accounts for. */
  paused: number;
  /** The cursor moves owed that this plan makes, if any. */
  move?: OwedMove;
  /** The results owed that this plan records, if any. */
  results?: readonly FinishedRun[];
};

/**
 * The cursor moves a task is owed, merged: the slots up to `skipTo` are skipped (a schedule change), then the
 * slots up to `pausedUpTo` are counted as paused (a resume). None: -Infinity.
 */
interface OwedMove {
  skipTo: number;
  pausedUpTo: number;
}

export class Beat {
  readonly #tasks = new Map<string, BeatTask>();
  /** Cursor moves owed to tasks after a definition change, until one of their slots is recorded. */
  readonly #moves = new Map<string, OwedMove>();
  /** Final results of runs of pauseAfterFailures tasks, until the count they make is recorded. */
  readonly #results = new Map<string, readonly FinishedRun[]>();
  readonly #queue = new DueQueue();
  readonly #options: Required<BeatOptions>;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = false;
  /** The batches in flight, with the time each started. */
  readonly #inFlight = new Map<Promise<void>, number>();
  /** The last problem reported per task, so a slot retried every second reports it once. */
  readonly #problems = new Map<string, { reason: string; problem: BeatProblem }>();
  /** Whole batches failing in a row: since when, when last, and the last error. */
  #failing: { since: number; last: number; error: string } | undefined;
  /** Failed attempts per task, for the wait before its next one. */
  readonly #retries: KeyedBackoff<string>;
  readonly #rates: NamespaceRates;

  constructor(options: BeatOptions) {
    this.#options = {
      clock: Date.now,
      fenceToken: () => '',
      batchSize: 1000,
      retryBackoff: { initialMs: 1000, maxMs: 10_000 },
      random: Math.random,
      overlap: NO_OVERLAP_GUARD,
      unrun: () => {},
      keyMissing: () => {},
      maxBackfill: 1000,
      runsPerSecond: () => undefined,
      ...options,
    };
    this.#rates = new NamespaceRates(this.#options.runsPerSecond);
    this.#retries = new KeyedBackoff(this.#options.retryBackoff, this.#options.random);
  }

  /** The task as the beat holds it; its run state is the beat's to change. */
  get(taskKey: string): Readonly<BeatTask> | undefined {
    return this.#tasks.get(taskKey);
  }

  /** The next slot the beat will act on for a task, or null when it has none (disabled, completed…). */
  nextRunAt(taskKey: string): number | null {
    const task = this.#tasks.get(taskKey);
    return task ? this.#nextSlot(taskKey, task) : null;
  }

  /**
   * Adds or replaces a task (a copy is kept: its run state is the beat's from now on); its next slot follows
   * the new definition from the stored cursor, after `move` when the change calls for one. A changed definition
   * forgets the task's problem (it may not have it); the same one, set again by a resync, keeps it.
   */
  set(key: string, task: BeatTask, definitionChanged = true, move?: CursorMove): void {
    const current = this.#tasks.get(key)?.state;
    // A read that caught a publish under way, most likely this beat's own, settled since: the beat keeps its
    // state (if the store's differs, its next dispatch finds a conflict and takes the store's).
    const state = task.state.publishing && current && !current.publishing ? current : task.state;
    const own: BeatTask = { def: task.def, schedule: task.schedule, state };
    this.#tasks.set(key, own);
    if (definitionChanged) this.#problems.delete(key);
    if (move) this.#owe(key, move);
    this.#requeue(key, own);
  }

  /** Why the task's last attempt did not go out, until one of its slots is recorded again. */
  problemOf(taskKey: string): { reason: string; problem: BeatProblem } | undefined {
    return this.#problems.get(taskKey);
  }

  /**
   * Takes a run state the store recorded beside this beat's dispatches (a manual run of unknown outcome,
   * counted in it) and reports it; a dispatch in flight from the older state finds a conflict and re-reads.
   */
  adopt(taskKey: string, state: RunState): void {
    const task = this.#tasks.get(taskKey);
    if (!task) return;
    task.state = state;
    this.#options.listener.recorded(task.def, state, this.#nextSlot(taskKey, task));
  }

  /**
   * A run of the task has a final result (the result backend): for a task with pauseAfterFailures, the count of
   * failures in a row it makes is recorded as the task's next slot (fenced and compared like any other).
   */
  finished(taskKey: string, run: FinishedRun): void {
    const task = this.#tasks.get(taskKey);
    if (task?.def.pauseAfterFailures === undefined) return;
    if (run.state !== 'SUCCESS' && run.state !== 'FAILURE') return;
    this.#results.set(taskKey, [...(this.#results.get(taskKey) ?? []), run]);
    this.#requeue(taskKey, task);
  }

  delete(taskKey: string): void {
    this.#tasks.delete(taskKey);
    this.#moves.delete(taskKey);
    this.#results.delete(taskKey);
    this.#queue.delete(taskKey);
    this.#problems.delete(taskKey);
    this.#retries.forget(taskKey);
  }

  start(): void {
    this.#running = true;
    this.#failing = undefined;
    this.#arm();
  }

  /**
   * Since when due slots have waited without a dispatch that answered: the start of a run of whole-batch
   * failures (still going on), or of a batch still in flight. Null when nothing waits.
   */
  stall(): DispatchStall | null {
    const now = this.#options.clock();
    let stall: DispatchStall | null = null;
    const failing = this.#failing;
    if (failing && now - failing.last <= this.#stallGapMs())
      stall = { since: failing.since, reason: failing.error };
    for (const started of this.#inFlight.values()) {
      if (stall === null || started < stall.since)
        stall = { since: started, reason: 'a dispatch batch has not completed' };
    }
    return stall;
  }

  #stallGapMs(): number {
    return Math.max(STALL_GAP_MIN_MS, 2 * this.#retries.maxMs);
  }

  /** Stops waking up and waits for the dispatch in flight, so nothing is half-done at exit. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timerAt = Number.POSITIVE_INFINITY;
    await Promise.all(this.#inFlight.keys());
  }

  /**
   * When the task next acts: the run time of its next slot (jitter included); while paused, the end of the
   * pause (null when it has none).
   */
  #nextSlot(key: string, task: BeatTask): number | null {
    const { def, state, schedule } = task;
    if (!def.enabled) return null;
    if (isCompleted(def, state, schedule)) return null;
    // A claim under way elsewhere: settled by its dispatcher, or counted as unknown once it is abandoned.
    if (state.publishing !== undefined) return state.publishing.since + ABANDONED_CLAIM_MS;
    if (isPaused(def, this.#options.clock())) return def.pause?.until ?? null;
    if (isPausedByFailures(def, state)) return null;
    const move = this.#moves.get(key);
    const slot = schedule.next(
      Math.max(state.cursor, move?.skipTo ?? -Infinity, move?.pausedUpTo ?? -Infinity),
    );
    return slot === null ? null : runTimeOf(def, key, slot);
  }

  /**
   * Queues the task for its next slot, or at once when it owes a cursor move, or a record of its failures (results
   * or a resume: even while it has no next slot, since the record may end a pause).
   */
  #requeue(key: string, task: BeatTask, notBefore?: number): void {
    const next = this.#nextSlot(key, task);
    const failures =
      task.state.publishing === undefined && (this.#results.has(key) || resumeOwed(task.def, task.state));
    if (next === null && !failures) {
      this.#queue.delete(key);
      return;
    }
    const now = this.#options.clock();
    const due = this.#moves.has(key) || failures ? Math.min(next ?? now, now) : (next as number);
    this.#queue.set(key, notBefore === undefined ? due : Math.max(due, notBefore), task.def.namespace);
    this.#arm();
  }

  /** Sets the wake-up timer for the earliest due slot, unless enough batches are in flight (they re-arm). */
  #arm(): void {
    if (!this.#running || this.#inFlight.size >= MAX_IN_FLIGHT) return;
    const due = this.#queue.peek();
    if (due === null) return;
    const now = this.#options.clock();
    const at = Math.min(Math.max(due, now), now + MAX_SLEEP_MS);
    if (this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timerAt = Number.POSITIVE_INFINITY;
      // Whatever one batch throws stays in that batch: the loop goes on, and no rejection is left unhandled.
      const batch = this.#runDue()
        .catch((error: unknown) =>
          this.#options.logger.error({ err: error }, 'dispatch loop error; continuing'),
        )
        .finally(() => {
          this.#inFlight.delete(batch);
          this.#arm();
        });
      this.#inFlight.set(batch, this.#options.clock());
      this.#arm();
    }, at - now);
  }

  async #runDue(): Promise<void> {
    const now = this.#options.clock();
    const keys = this.#queue.popDue(now, this.#options.batchSize);
    const planned: Planned[] = [];
    for (const key of keys) {
      const task = this.#tasks.get(key);
      if (!task) continue;
      const { namespace } = task.def;
      const wait = this.#rates.wait(namespace, now);
      if (wait > 0) {
        namespaceThrottledTotal.inc({ task_namespace: namespace });
        this.#requeue(key, task, now + wait);
        continue;
      }
      try {
        const plan = this.#plan(key, task, now);
        if (plan?.run != null) this.#rates.take(namespace, now);
        if (plan) planned.push({ key, task, ...plan });
        else this.#requeue(key, task, now + 1);
      } catch (error) {
        // One task's defect must not stop the others: it is reported and tried again later.
        dispatchesTotal.inc({ result: 'error' });
        this.#problem(key, task, `cannot plan the next slot: ${(error as Error).message}`, 'DispatchError');
        this.#requeue(key, task, now + PLAN_FAILURE_RETRY_MS);
      }
    }
    if (planned.length === 0) return;
    await this.#keepFromOverlapping(planned);
    let outcomes: SlotOutcome[];
    try {
      outcomes = await this.#options.dispatcher.dispatch(
        planned.map((p) => p.slot),
        this.#options.fenceToken(),
      );
    } catch (error) {
      this.#batchFailed(planned, error as Error, now);
      return;
    }
    this.#failing = undefined;
    const publishedAt = this.#options.clock();
    for (const [i, outcome] of outcomes.entries()) {
      const p = planned[i]!;
      try {
        this.#settle(p, outcome, publishedAt);
      } catch (error) {
        this.#options.logger.error({ err: error, task: p.key }, 'recording a dispatch outcome failed');
        this.#requeue(p.key, p.task, publishedAt + this.#retries.when(p.key));
      }
    }
  }

  /**
   * The whole batch failed: each task says why in its Ready condition (once per distinct error), and every
   * slot is retried. Redis refusing or unreachable is StoreUnavailable; anything else is a dispatcher defect.
   */
  #batchFailed(planned: Planned[], error: Error, now: number): void {
    const store = error instanceof StoreUnavailableError;
    // A Redis error carries the command's arguments (every envelope of the batch): log its message only.
    const detail = store ? { reason: error.message } : { err: error };
    this.#options.logger.error({ ...detail, slots: planned.length }, 'dispatch failed, retrying');
    dispatchesTotal.inc({ result: store ? 'store_unavailable' : 'error' }, planned.length);
    const message = store ? error.message : `dispatch failed: ${error.message}`;
    const since = this.#failing && now - this.#failing.last <= this.#stallGapMs() ? this.#failing.since : now;
    this.#failing = { since, last: now, error: message };
    for (const p of planned) {
      // The batch's error line above is the log; a line per task would repeat it thousands of times.
      this.#problem(p.key, p.task, message, store ? 'StoreUnavailable' : 'DispatchError', false);
      this.#requeue(p.key, p.task, now + this.#retries.when(p.key));
    }
  }

  /**
   * concurrencyPolicy: a Forbid slot whose previous run has not finished becomes a missed slot; for Replace
   * the previous run is revoked (terminated) before the new one goes out. When the result backend cannot be
   * read, Forbid skips (it cannot know the run ended) and Replace revokes anyway (harmless if it ended).
   */
  async #keepFromOverlapping(planned: Planned[]): Promise<void> {
    const guarded = planned.filter(
      (p) =>
        p.run !== null && p.task.def.concurrencyPolicy !== undefined && p.slot.expected.lastTaskId !== null,
    );
    if (guarded.length === 0) return;
    const previous = guarded.map((p) => p.slot.expected.lastTaskId as string);
    let unfinished: Set<string>;
    let unknown = '';
    try {
      unfinished = await this.#options.overlap.unfinished(previous);
    } catch (error) {
      unfinished = new Set(previous);
      unknown = ` (the result backend could not be read: ${(error as Error).message})`;
    }
    const revoke: string[] = [];
    // Each namespace's runs are revoked on its own broker, where its workers listen.
    const byNamespace = new Map<string, string[]>();
    for (const p of guarded) {
      const id = p.slot.expected.lastTaskId as string;
      if (!unfinished.has(id)) continue;
      if (p.task.def.concurrencyPolicy === 'Replace') {
        revoke.push(id);
        const ids = byNamespace.get(p.task.def.namespace);
        if (ids) ids.push(id);
        else byNamespace.set(p.task.def.namespace, [id]);
        continue;
      }
      const { expected, next } = p.slot;
      p.slot.publish = undefined;
      p.slot.next = {
        ...next,
        totalRunCount: expected.totalRunCount,
        lastTaskId: expected.lastTaskId,
        lastTaskSlot: expected.lastTaskSlot,
        missedRunCount: next.missedRunCount + 1,
      };
      p.skipped = `the slot ${new Date(p.run as number).toISOString()} was skipped: the previous run ${id} has not finished${unknown} (concurrencyPolicy Forbid)`;
      p.run = null;
      skippedRunsTotal.inc({ reason: 'overlap' });
    }
    if (revoke.length === 0) return;
    try {
      await Promise.all(
        [...byNamespace].map(([namespace, ids]) => this.#options.overlap.revoke(namespace, ids)),
      );
      replacedRunsTotal.inc(revoke.length);
      this.#options.logger.info({ taskIds: revoke }, 'revoked unfinished runs (concurrencyPolicy Replace)');
    } catch (error) {
      this.#options.logger.warn(
        { err: error, taskIds: revoke },
        'revoking unfinished runs failed; sending the new runs',
      );
    }
  }

  /** One line per run, in every mode: the operator's own record of what went out (status may lag or be off). */
  #logSent(task: BeatTask, run: number, next: number | null): void {
    // On the dispatch path: build the line (two ISO strings) only when it is going to be written.
    if (!this.#options.logger.isLevelEnabled('info')) return;
    const { def, state } = task;
    this.#options.logger.info(
      {
        namespace: def.namespace,
        name: def.name,
        lastRunAt: new Date(run).toISOString(),
        lastTaskId: state.lastTaskId,
        totalRunCount: state.totalRunCount,
        nextRunAt: next === null ? null : new Date(next).toISOString(),
      },
      'task sent',
    );
  }

  /** Logs (unless the caller did) and reports a task's problem once per distinct reason. */
  #problem(key: string, task: BeatTask, reason: string, problem: BeatProblem, log = true): void {
    if (this.#problems.get(key)?.reason === reason) return;
    this.#problems.set(key, { reason, problem });
    if (log)
      this.#options.logger.error(
        { namespace: task.def.namespace, name: task.def.name, reason },
        'task not sent',
      );
    this.#options.listener.rejected(task.def, reason, problem);
  }

  /**
   * Decides what the slots in (cursor, now] become; null when nothing is due (an early wake-up). Slots inside
   * a pause are accounted for as paused, not missed; a jittered slot is due at its run time, not before.
   */
  #plan(
    key: string,
    task: BeatTask,
    now: number,
  ): {
    slot: PlannedSlot;
    run: number | null;
    paused: number;
    move?: OwedMove;
    results?: readonly FinishedRun[];
  } | null {
    const { def, schedule } = task;
    const stored = task.state;
    // A publish still under way long after its claim was abandoned (its dispatcher stopped between claim and
    // settle): its outcome is unknown. It is counted as such, never as a run, and its slot is not sent again.
    // A younger one is left to its dispatcher (a conflict will bring its outcome).
    if (stored.publishing && now - stored.publishing.since < ABANDONED_CLAIM_MS) return null;
    const abandoned = stored.publishing !== undefined;
    // The results learnt and a resume asked for change the count of failures, recorded with this slot.
    const results = this.#results.get(key);
    const counted = applyFailureResults(
      def,
      abandoned ? settledAsUnknown(stored) : stored,
      results ?? [],
      now,
    );
    const state = counted.state;
    const recordOwed = abandoned || !sameFailures(state, stored);
    // Results that change nothing (a SUCCESS with no failures counted, a result counted before) are done with.
    if (results !== undefined && sameFailures(state, stored)) this.#results.delete(key);
    const owed = results === undefined || sameFailures(state, stored) ? {} : { results };
    const moved = this.#moved(key, { ...task, state });
    if (moved.move && moved.from !== state.cursor) {
      // The move is recorded on its own first: the stored cursor is then the point the slots that follow are
      // planned from (an interval's grid passes through it), as a reader of the key computes them.
      const next = { ...state, cursor: moved.from, pausedRunCount: state.pausedRunCount + moved.paused };
      return {
        slot: { taskKey: key, expected: stored, next },
        run: null,
        paused: moved.paused,
        move: moved.move,
        ...owed,
      };
    }
    // No move owed from here on: the slots start at the stored cursor.
    let from = state.cursor;
    let paused = 0;
    const end = this.#pauseEnd(def, state, counted.liftedAt);
    if (end !== null) {
      const inPause = Math.min(now, end) > from ? schedule.latest(from, Math.min(now, end)) : null;
      if (inPause) {
        paused += inPause.count;
        from = inPause.slot;
      }
      if (end > now) {
        if (from === state.cursor && !recordOwed) return null;
        const next = { ...state, cursor: from, pausedRunCount: state.pausedRunCount + paused };
        return { slot: { taskKey: key, expected: stored, next }, run: null, paused, ...owed };
      }
    }
    const rule = this.#catchUp(def);
    let plan = planSlots(schedule, from, now, def.startingDeadlineSeconds, rule);
    if (plan.run !== null && runTimeOf(def, key, plan.run) > now) {
      // Woken for another reason before this slot's jittered time: only the slots before it are due.
      plan = planSlots(schedule, from, plan.run - 0.001, def.startingDeadlineSeconds, rule);
    }
    if (plan.run === null && plan.missed === 0 && from === state.cursor && !recordOwed) return null;
    const next: RunState = {
      ...state,
      cursor: plan.missed === 0 && plan.run === null ? from : plan.newCursor,
      missedRunCount: state.missedRunCount + plan.missed,
      pausedRunCount: state.pausedRunCount + paused,
    };
    const slot: PlannedSlot = { taskKey: key, expected: stored, next };
    if (plan.run !== null) this.#addRun(key, task, slot, plan.run);
    return { slot, run: slot.publish ? plan.run : null, paused, ...owed };
  }

  /**
   * Until when the task's slots are paused ones, or null when it is not paused: spec.pause (to its `until`), a
   * pause by failures (for good, until a resume), or one a resume has just lifted (to the resume).
   */
  #pauseEnd(def: TaskDefinition, state: RunState, liftedAt: number | undefined): number | null {
    const ends: number[] = [];
    if (def.pause) ends.push(def.pause.until ?? Number.POSITIVE_INFINITY);
    if (isPausedByFailures(def, state)) ends.push(Number.POSITIVE_INFINITY);
    if (liftedAt !== undefined) ends.push(liftedAt);
    return ends.length === 0 ? null : Math.max(...ends);
  }

  /** Told once the pause is recorded: a slot that was not (a conflict, a fence) paused nothing. */
  #pausedByFailures(def: TaskDefinition, state: RunState): void {
    this.#options.listener.pausedByFailures?.(def, state);
    const failures = state.failures;
    this.#options.logger.warn(
      {
        namespace: def.namespace,
        name: def.name,
        failures: failures?.count,
        lastTaskId: failures?.taskId,
        ...(failures?.exception === undefined ? {} : { exception: failures.exception }),
      },
      'task paused after failures in a row (spec.pauseAfterFailures); resume it to run again',
    );
  }

  /**
   * The task's catchUp policy. All runs at most --max-backfill slots after a gap. None runs a slot only when it
   * is reached within the longest wait between retries of a failed publish (and the task's jitter) after its
   * slot: a publish retried through a short broker outage still goes out, a slot found after an operator
   * outage or a leader change does not.
   */
  #catchUp(def: TaskDefinition): CatchUpRule {
    if (def.catchUp === 'All') return { policy: 'All', maxSlots: this.#options.maxBackfill };
    if (def.catchUp === 'None')
      return { policy: 'None', onTimeMs: this.#retries.maxMs + (def.jitterMs ?? 0) };
    return { policy: 'Latest' };
  }

  /**
   * Makes the slot a run: its message, and the run counted in the next state. A message that cannot be sent
   * makes it a missed slot instead.
   */
  #addRun(key: string, task: BeatTask, slot: PlannedSlot, run: number): void {
    const { def } = task;
    const id = taskIdForSlot(key, def.uid, run);
    try {
      const message = buildTaskMessage({
        task: def.task,
        id,
        args: def.args,
        kwargs: def.kwargs,
        options: def.options,
        scheduledAt: run,
        periodicTaskName: key,
        namespace: def.namespace,
        ...(def.originalName === undefined ? {} : { originalName: def.originalName }),
      });
      slot.publish = { message, options: def.options };
      slot.next.totalRunCount += 1;
      slot.next.lastTaskId = id;
      slot.next.lastTaskSlot = run;
    } catch (error) {
      // Never send what a worker would choke on, or discard unrun: the slot is recorded as missed instead.
      const reason = (error as Error).message;
      if (error instanceof UnsafeMessageError && error.reason === 'expired') {
        dispatchesTotal.inc({ result: 'expired' });
        this.#options.logger.warn(
          { namespace: def.namespace, name: def.name, reason },
          'run expired before it could be sent',
        );
      } else {
        this.#problem(key, task, reason, 'MessageRejected');
      }
      slot.next.missedRunCount += 1;
    }
  }

  /**
   * Adds a move to what the task is owed: a schedule change skips the slots before it (a pause owed before it
   * is then covered by the skip); a resume counts the slots up to it as paused.
   */
  #owe(key: string, move: CursorMove): void {
    const owed = { skipTo: -Infinity, pausedUpTo: -Infinity, ...this.#moves.get(key) };
    if (move.reason === 'schedule-changed') {
      owed.skipTo = Math.max(owed.skipTo, move.at);
      if (owed.pausedUpTo <= owed.skipTo) owed.pausedUpTo = -Infinity;
    } else owed.pausedUpTo = Math.max(owed.pausedUpTo, move.at);
    this.#moves.set(key, owed);
  }

  /**
   * Where the task's slots start once its owed cursor moves are made: after the skipped slots, then after the
   * last slot inside the pause (those counted as paused). Moves the cursor has passed are dropped.
   */
  #moved(key: string, task: BeatTask): { from: number; paused: number; move?: OwedMove } {
    const { state, schedule } = task;
    const move = this.#moves.get(key);
    if (move === undefined) return { from: state.cursor, paused: 0 };
    const from = Math.max(state.cursor, move.skipTo);
    const inPause = move.pausedUpTo > from ? schedule.latest(from, move.pausedUpTo) : null;
    if (inPause) return { from: inPause.slot, paused: inPause.count, move };
    if (from > state.cursor) return { from, paused: 0, move };
    this.#moves.delete(key);
    return { from: state.cursor, paused: 0 };
  }

  #settle(p: Planned, outcome: SlotOutcome, publishedAt: number): void {
    const { key, task, slot, run } = p;
    // The move is made once its slot is recorded; a conflict leaves it owed (the stored cursor may be behind it).
    if (outcome.status === 'ok' && p.move && this.#moves.get(key) === p.move) this.#moves.delete(key);
    if (outcome.status === 'ok' && p.results) this.#resultsRecorded(key, p.results);
    if (this.#tasks.get(key) !== task) {
      // Replaced or deleted while the dispatch was in flight: keep what the store now holds. A slot recorded
      // all the same is counted, logged and told (under the task's new definition), as any other.
      const current = this.#tasks.get(key);
      if (outcome.status === 'ok') {
        this.#count(p, publishedAt);
        if (current) {
          current.state = slot.next;
          this.#tell({ ...p, task: current }, publishedAt);
        } else if (run !== null) this.#logSent(task, run, null);
      }
      if (current && outcome.status === 'unknown') {
        current.state = outcome.stored ?? settledAsUnknown(claimedState(slot, publishedAt));
        this.#options.listener.recorded(current.def, current.state, this.#nextSlot(key, current));
      }
      if (current) this.#requeue(key, current);
      return;
    }
    switch (outcome.status) {
      case 'ok':
        task.state = slot.next;
        this.#retries.forget(key);
        if (slot.expected.publishing !== undefined) {
          dispatchesTotal.inc({ result: 'unknown' });
          this.#options.logger.warn(
            { namespace: task.def.namespace, name: task.def.name, taskId: slot.expected.publishing.taskId },
            'a publish found still under way was abandoned: counted as of unknown outcome, not sent again',
          );
        }
        this.#count(p, publishedAt);
        this.#requeue(key, task);
        if (!isPausedByFailures(task.def, slot.expected) && isPausedByFailures(task.def, slot.next))
          this.#pausedByFailures(task.def, slot.next);
        // A recorded run clears any problem; a recorded slot without a run disproves only the store's.
        if (run !== null || this.#problems.get(key)?.problem === 'StoreUnavailable')
          this.#problems.delete(key);
        this.#tell(p, publishedAt);
        return;
      case 'conflict':
        // Another dispatcher recorded this slot first: adopt its state, never publish it again.
        dispatchesTotal.inc({ result: 'duplicate' });
        task.state = outcome.stored;
        this.#retries.forget(key);
        this.#requeue(key, task);
        return;
      case 'unknown': {
        // Sent, never confirmed: the claim stays, so the slot is not sent again; it is not a run either.
        dispatchesTotal.inc({ result: 'unknown' });
        task.state = outcome.stored ?? settledAsUnknown(claimedState(slot, publishedAt));
        this.#retries.forget(key);
        this.#options.logger.warn(
          { namespace: task.def.namespace, name: task.def.name, err: outcome.error },
          'publish outcome unknown: counted as unknown, not sent again',
        );
        this.#requeue(key, task);
        this.#options.listener.recorded(task.def, task.state, this.#nextSlot(key, task));
        return;
      }
      case 'claimed-before':
        throw new Error(`the store answered a scheduled slot of ${key} with a manual run's claim`);
      case 'publish-failed':
        dispatchesTotal.inc({ result: 'failed' });
        this.#options.logger.warn(
          { namespace: task.def.namespace, name: task.def.name, err: outcome.error },
          'publish failed, retrying',
        );
        this.#problem(key, task, outcome.error.message, 'PublishFailed');
        this.#requeue(key, task, publishedAt + this.#retries.when(key));
        return;
      case 'missing':
      case 'corrupt':
        // The key vanished (flush, eviction, new Redis) or lost its run state: written back by the reconciler.
        this.#keyMissing(key, task);
        return;
      case 'fenced':
        // The fence no longer holds our token: retry only if leadership is confirmed meanwhile.
        this.#requeue(key, task, publishedAt + this.#retries.when(key));
        this.#options.listener.fenced();
        return;
    }
  }

  /** Drops the results a recorded slot counted; those learnt meanwhile stay owed. */
  #resultsRecorded(key: string, recorded: readonly FinishedRun[]): void {
    const owed = this.#results.get(key);
    if (owed === undefined) return;
    const left = owed.slice(recorded.length);
    if (left.length === 0) this.#results.delete(key);
    else this.#results.set(key, left);
  }

  /** The metrics of a recorded slot, and the stretch it accounted for without a run (for a backfill). */
  #count(p: Planned, publishedAt: number): void {
    const { slot, run } = p;
    const unrun = { after: slot.expected.cursor, upTo: run === null ? slot.next.cursor : run - 0.001 };
    // A stretch under a second is a sub-second interval catching up, not something to backfill.
    const skipped = slot.next.missedRunCount > slot.expected.missedRunCount || p.paused > 0;
    if (skipped && unrun.upTo - unrun.after >= UNRUN_MIN_MS) this.#options.unrun(p.key, unrun);
    const namespace = p.task.def.namespace;
    if (p.paused > 0) {
      pausedRunsTotal.inc(p.paused);
      namespaceSlotsTotal.inc({ task_namespace: namespace, outcome: 'paused' }, p.paused);
    }
    const missed = slot.next.missedRunCount - slot.expected.missedRunCount;
    if (missed > 0) {
      missedRunsTotal.inc(missed);
      namespaceSlotsTotal.inc({ task_namespace: namespace, outcome: 'missed' }, missed);
    }
    if (run !== null) {
      dispatchesTotal.inc({ result: 'published' });
      namespaceSlotsTotal.inc({ task_namespace: namespace, outcome: 'published' });
      dispatchLatenessSeconds.observe(Math.max(0, publishedAt - run) / 1000);
    }
  }

  /** Tells the log and the listener of a recorded slot: a run sent, a slot skipped, or the state recorded. */
  #tell(p: Planned, publishedAt: number): void {
    const { key, task, run } = p;
    const next = this.#nextSlot(key, task);
    if (run !== null) {
      this.#logSent(task, run, next);
      this.#options.listener.sent?.(task.def, task.state.lastTaskId as string, run, publishedAt);
    }
    if (p.skipped !== undefined && this.#options.listener.skipped) {
      this.#options.logger.info(
        { namespace: task.def.namespace, name: task.def.name, reason: p.skipped },
        'slot skipped',
      );
      this.#options.listener.skipped(task.def, task.state, next, p.skipped);
    } else {
      this.#options.listener.recorded(task.def, task.state, next);
    }
  }

  /**
   * Asks for the key to be written again, and retries the task after its backoff (at once when the reconciler
   * sets it again). A hand-written key is the user's: it is never re-created as ours, and the task and its run
   * state stay here until the Redis source's next scan hands the key over again (or says it is gone), so an
   * edit that carried an older run state cannot make a recorded slot due again.
   */
  #keyMissing(key: string, task: BeatTask): void {
    const log = this.#options.logger.child({ namespace: task.def.namespace, name: task.def.name });
    if (isHandWritten(task.def)) {
      log.debug('hand-written key changed or deleted; waiting for the next scan of the Redis source');
    } else {
      log.warn('task key missing in Redis; writing it again with the run state the beat holds');
      this.#options.keyMissing(key);
    }
    this.#requeue(key, task, this.#options.clock() + this.#retries.when(key));
  }
}
