// The dispatch loop: a due-time queue over every enabled task, woken for the earliest slot. Each wake-up
// plans the due slots (at most one run per task, older slots counted as missed), dispatches them in one
// batch and re-queues each task at its next slot.
import { isHandWritten, type TaskDefinition } from '../api/types.ts';
import { buildTaskMessage } from '../celery/message.ts';
import { UnsafeMessageError } from '../celery/message-check.ts';
import { taskIdForSlot } from '../celery/task-id.ts';
import type {
  OverlapGuard,
  PlannedSlot,
  RunState,
  SlotDispatcher,
  SlotOutcome,
  SlotRange,
  TaskStore,
} from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import {
  dispatchesTotal,
  dispatchLatenessSeconds,
  missedRunsTotal,
  pausedRunsTotal,
  replacedRunsTotal,
  skippedRunsTotal,
} from '../observe/metrics.ts';
import { planSlots } from '../schedule/catch-up.ts';
import { isCompleted, isPaused } from '../schedule/completion.ts';
import { runTimeOf } from '../schedule/jitter.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { DueQueue } from './due-queue.ts';

export interface BeatTask {
  def: TaskDefinition;
  schedule: Schedule;
  state: RunState;
  /** Slots that fell inside a pause (status.pausedRunCount); kept here, not in Redis. */
  pausedRunCount?: number;
}

/** Why a task's slot could not go out; becomes the Ready condition's reason. */
export type BeatProblem = 'MessageRejected' | 'PublishFailed' | 'DispatchError';

/** What the beat tells the status layer after it recorded a slot, or could not send one. */
export interface BeatListener {
  recorded(def: TaskDefinition, state: RunState, nextRunAt: number | null, pausedRunCount?: number): void;
  /** Once per distinct problem of a task, until one of its slots is recorded again. */
  rejected(def: TaskDefinition, reason: string, problem?: BeatProblem): void;
  /** The store refused a dispatch because the leader lock does not hold this process's token. */
  fenced(): void;
  /** A run went out (the broker has it): its task id and slot, and when it was published. */
  sent?(def: TaskDefinition, taskId: string, slot: number, sentAt: number): void;
  /** A slot was recorded as missed on purpose (concurrencyPolicy Forbid); `reason` says why. */
  skipped?(def: TaskDefinition, state: RunState, nextRunAt: number | null, reason: string): void;
}

export interface BeatOptions {
  store: TaskStore;
  dispatcher: SlotDispatcher;
  listener: BeatListener;
  logger: Logger;
  clock?: () => number;
  /** Leader token checked by the store on every dispatch ("" when not fenced by a Redis lock). */
  fenceToken?: () => string;
  /** Slots handled per wake-up. */
  batchSize?: number;
  /** Delay before a slot whose publish failed is tried again. */
  retryDelayMs?: number;
  /** Keeps runs of Forbid and Replace tasks from overlapping (`--result-backend`); absent: they may overlap. */
  overlap?: OverlapGuard;
  /** Told of slots accounted for without a run (missed, skipped, paused), which a backfill may run. */
  unrun?: (taskKey: string, range: SlotRange) => void;
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

type Planned = {
  key: string;
  task: BeatTask;
  slot: PlannedSlot;
  run: number | null;
  /** Why the slot is recorded without a run (concurrencyPolicy Forbid). */
  skipped?: string;
  /** Slots of a pause this plan accounts for. */
  paused: number;
};

export class Beat {
  readonly #tasks = new Map<string, BeatTask>();
  readonly #queue = new DueQueue();
  readonly #o: Required<BeatOptions>;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = false;
  readonly #inFlight = new Set<Promise<void>>();
  /** The last problem reported per task, so a slot retried every second reports it once. */
  readonly #problems = new Map<string, string>();

  constructor(options: BeatOptions) {
    this.#o = {
      clock: Date.now,
      fenceToken: () => '',
      batchSize: 1000,
      retryDelayMs: 1000,
      overlap: NO_OVERLAP_GUARD,
      unrun: () => {},
      ...options,
    };
  }

  get(taskKey: string): BeatTask | undefined {
    return this.#tasks.get(taskKey);
  }

  /** The next slot the beat will act on for a task, or null when it has none (disabled, completed…). */
  nextRunAt(taskKey: string): number | null {
    const task = this.#tasks.get(taskKey);
    return task ? this.#nextSlot(taskKey, task) : null;
  }

  /** Adds or replaces a task; its next slot follows the new definition from the stored cursor. */
  set(key: string, task: BeatTask): void {
    this.#tasks.set(key, task);
    this.#requeue(key, task);
  }

  delete(taskKey: string): void {
    this.#tasks.delete(taskKey);
    this.#queue.delete(taskKey);
    this.#problems.delete(taskKey);
  }

  start(): void {
    this.#running = true;
    this.#arm();
  }

  /** Stops waking up and waits for the dispatch in flight, so nothing is half-done at exit. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timerAt = Number.POSITIVE_INFINITY;
    await Promise.all(this.#inFlight);
  }

  /**
   * When the task next acts: the run time of its next slot (jitter included); while paused, the end of the
   * pause (null when it has none).
   */
  #nextSlot(key: string, task: BeatTask): number | null {
    const { def, state, schedule } = task;
    if (!def.enabled) return null;
    if (isCompleted(def, state)) return null;
    if (isPaused(def, this.#o.clock())) return def.pause?.until ?? null;
    const slot = schedule.next(state.cursor);
    return slot === null ? null : runTimeOf(def, key, slot);
  }

  #requeue(key: string, task: BeatTask, notBefore?: number): void {
    const next = this.#nextSlot(key, task);
    if (next === null) {
      this.#queue.delete(key);
      return;
    }
    this.#queue.set(key, notBefore === undefined ? next : Math.max(next, notBefore));
    this.#arm();
  }

  /** Sets the wake-up timer for the earliest due slot, unless enough batches are in flight (they re-arm). */
  #arm(): void {
    if (!this.#running || this.#inFlight.size >= MAX_IN_FLIGHT) return;
    const due = this.#queue.peek();
    if (due === null) return;
    const now = this.#o.clock();
    const at = Math.min(Math.max(due, now), now + MAX_SLEEP_MS);
    if (this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timerAt = Number.POSITIVE_INFINITY;
      // Whatever one batch throws stays in that batch: the loop goes on, and no rejection is left unhandled.
      const batch = this.#runDue()
        .catch((error: unknown) => this.#o.logger.error({ err: error }, 'dispatch loop error; continuing'))
        .finally(() => {
          this.#inFlight.delete(batch);
          this.#arm();
        });
      this.#inFlight.add(batch);
      this.#arm();
    }, at - now);
  }

  async #runDue(): Promise<void> {
    const now = this.#o.clock();
    const keys = this.#queue.popDue(now, this.#o.batchSize);
    const planned: Planned[] = [];
    for (const key of keys) {
      const task = this.#tasks.get(key);
      if (!task) continue;
      try {
        const plan = this.#plan(key, task, now);
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
      outcomes = await this.#o.dispatcher.dispatch(
        planned.map((p) => p.slot),
        this.#o.fenceToken(),
      );
    } catch (error) {
      this.#o.logger.error({ err: error, slots: planned.length }, 'dispatch failed, retrying');
      dispatchesTotal.inc({ result: 'failed' }, planned.length);
      for (const p of planned) this.#requeue(p.key, p.task, now + this.#o.retryDelayMs);
      return;
    }
    const publishedAt = this.#o.clock();
    for (const [i, outcome] of outcomes.entries()) {
      const p = planned[i]!;
      try {
        this.#settle(p, outcome, publishedAt);
      } catch (error) {
        this.#o.logger.error({ err: error, task: p.key }, 'recording a dispatch outcome failed');
        this.#requeue(p.key, p.task, publishedAt + this.#o.retryDelayMs);
      }
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
      unfinished = await this.#o.overlap.unfinished(previous);
    } catch (error) {
      unfinished = new Set(previous);
      unknown = ` (the result backend could not be read: ${(error as Error).message})`;
    }
    const revoke: string[] = [];
    for (const p of guarded) {
      const id = p.slot.expected.lastTaskId as string;
      if (!unfinished.has(id)) continue;
      if (p.task.def.concurrencyPolicy === 'Replace') {
        revoke.push(id);
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
      await this.#o.overlap.revoke(revoke);
      replacedRunsTotal.inc(revoke.length);
      this.#o.logger.info({ taskIds: revoke }, 'revoked unfinished runs (concurrencyPolicy Replace)');
    } catch (error) {
      this.#o.logger.warn(
        { err: error, taskIds: revoke },
        'revoking unfinished runs failed; sending the new runs',
      );
    }
  }

  /** One line per run, in every mode: the operator's own record of what went out (status may lag or be off). */
  #logSent(task: BeatTask, run: number, next: number | null): void {
    // On the dispatch path: build the line (two ISO strings) only when it is going to be written.
    if (!this.#o.logger.isLevelEnabled('info')) return;
    const { def, state } = task;
    this.#o.logger.info(
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

  /** Logs and reports a task's problem once per distinct reason. */
  #problem(key: string, task: BeatTask, reason: string, problem: BeatProblem): void {
    if (this.#problems.get(key) === reason) return;
    this.#problems.set(key, reason);
    this.#o.logger.error({ namespace: task.def.namespace, name: task.def.name, reason }, 'task not sent');
    this.#o.listener.rejected(task.def, reason, problem);
  }

  /**
   * Decides what the slots in (cursor, now] become; null when nothing is due (an early wake-up). Slots inside
   * a pause are accounted for as paused, not missed; a jittered slot is due at its run time, not before.
   */
  #plan(
    key: string,
    task: BeatTask,
    now: number,
  ): { slot: PlannedSlot; run: number | null; paused: number } | null {
    const { def, state, schedule } = task;
    let from = state.cursor;
    let paused = 0;
    if (def.pause) {
      const end = def.pause.until ?? Number.POSITIVE_INFINITY;
      const inPause = Math.min(now, end) > from ? schedule.latest(from, Math.min(now, end)) : null;
      if (inPause) {
        paused = inPause.count;
        from = inPause.slot;
      }
      if (end > now) {
        if (paused === 0) return null;
        return {
          slot: { taskKey: key, expected: state, next: { ...state, cursor: from } },
          run: null,
          paused,
        };
      }
    }
    let plan = planSlots(schedule, from, now, def.startingDeadlineSeconds);
    if (plan.run !== null && runTimeOf(def, key, plan.run) > now) {
      // Woken for another reason before this slot's jittered time: only the slots before it are due.
      plan = planSlots(schedule, from, plan.run - 0.001, def.startingDeadlineSeconds);
    }
    if (plan.run === null && plan.missed === 0 && paused === 0) return null;
    const next: RunState = {
      ...state,
      cursor: plan.missed === 0 && plan.run === null ? from : plan.newCursor,
      missedRunCount: state.missedRunCount + plan.missed,
    };
    const slot: PlannedSlot = { taskKey: key, expected: state, next };
    if (plan.run !== null) {
      const id = taskIdForSlot(key, def.uid, plan.run);
      try {
        const message = buildTaskMessage({
          task: def.task,
          id,
          args: def.args,
          kwargs: def.kwargs,
          options: def.options,
          scheduledAt: plan.run,
          periodicTaskName: key,
        });
        slot.publish = { message, options: def.options };
        next.totalRunCount = state.totalRunCount + 1;
        next.lastTaskId = id;
        next.lastTaskSlot = plan.run;
      } catch (error) {
        // Never send what a worker would choke on, or discard unrun: the slot is recorded as missed instead.
        const reason = (error as Error).message;
        if (error instanceof UnsafeMessageError && error.reason === 'expired') {
          dispatchesTotal.inc({ result: 'expired' });
          this.#o.logger.warn(
            { namespace: def.namespace, name: def.name, reason },
            'run expired before it could be sent',
          );
        } else {
          this.#problem(key, task, reason, 'MessageRejected');
        }
        next.missedRunCount += 1;
      }
    }
    return { slot, run: slot.publish ? plan.run : null, paused };
  }

  #settle(p: Planned, outcome: SlotOutcome, publishedAt: number): void {
    const { key, task, slot, run } = p;
    if (this.#tasks.get(key) !== task) {
      // Replaced or deleted while the dispatch was in flight: keep what the store now holds.
      const current = this.#tasks.get(key);
      if (current && outcome.status === 'ok') current.state = slot.next;
      if (current) this.#requeue(key, current);
      return;
    }
    const log = this.#o.logger;
    switch (outcome.status) {
      case 'ok': {
        task.state = slot.next;
        const unrun = { after: slot.expected.cursor, upTo: run === null ? slot.next.cursor : run - 0.001 };
        // A stretch under a second is a sub-second interval catching up, not something to backfill.
        const skipped = slot.next.missedRunCount > slot.expected.missedRunCount || p.paused > 0;
        if (skipped && unrun.upTo - unrun.after >= UNRUN_MIN_MS) this.#o.unrun(key, unrun);
        if (p.paused > 0) {
          task.pausedRunCount = (task.pausedRunCount ?? 0) + p.paused;
          pausedRunsTotal.inc(p.paused);
        }
        const missed = slot.next.missedRunCount - slot.expected.missedRunCount;
        if (missed > 0) missedRunsTotal.inc(missed);
        if (run !== null) {
          dispatchesTotal.inc({ result: 'published' });
          dispatchLatenessSeconds.observe(Math.max(0, publishedAt - run) / 1000);
        }
        this.#requeue(key, task);
        if (run !== null) this.#problems.delete(key);
        const next = this.#nextSlot(key, task);
        if (run !== null) {
          this.#logSent(task, run, next);
          this.#o.listener.sent?.(task.def, task.state.lastTaskId as string, run, publishedAt);
        }
        if (p.skipped !== undefined && this.#o.listener.skipped) {
          this.#o.logger.info(
            { namespace: task.def.namespace, name: task.def.name, reason: p.skipped },
            'slot skipped',
          );
          this.#o.listener.skipped(task.def, task.state, next, p.skipped);
        } else {
          this.#o.listener.recorded(task.def, task.state, next, task.pausedRunCount);
        }
        return;
      }
      case 'conflict':
        // Another dispatcher recorded this slot first: adopt its state, never publish it again.
        dispatchesTotal.inc({ result: 'duplicate' });
        task.state = outcome.stored;
        this.#requeue(key, task);
        return;
      case 'publish-failed':
        dispatchesTotal.inc({ result: 'failed' });
        log.warn(
          { namespace: task.def.namespace, name: task.def.name, err: outcome.error },
          'publish failed, retrying',
        );
        this.#problem(key, task, outcome.error.message, 'PublishFailed');
        this.#requeue(key, task, publishedAt + this.#o.retryDelayMs);
        return;
      case 'missing':
      case 'corrupt':
        // The key vanished (flush, eviction, new Redis) or lost its run state: write it back, then retry.
        this.#restore(key, task);
        return;
      case 'fenced':
        // The leader lock no longer holds our token: retry only if leadership is confirmed meanwhile.
        this.#requeue(key, task, publishedAt + this.#o.retryDelayMs);
        this.#o.listener.fenced();
        return;
    }
  }

  #restore(key: string, task: BeatTask): void {
    const log = this.#o.logger.child({ namespace: task.def.namespace, name: task.def.name });
    if (isHandWritten(task.def)) {
      // The user rewrote or deleted the key: never re-created as ours. The task and its run state stay
      // here until the Redis source's next scan hands the key over again (or says it is gone), so an edit
      // that carried an older run state cannot make a recorded slot due again.
      log.debug('hand-written key changed or deleted; waiting for the next scan of the Redis source');
      this.#requeue(key, task, this.#o.clock() + this.#o.retryDelayMs);
      return;
    }
    log.warn('task key missing in Redis, re-creating it from the last known run state');
    this.#o.store
      .upsert(task.def, task.state)
      .then((result) => {
        if (result.status === 'foreign') {
          log.error('task key is now owned by someone else; not dispatching it');
          this.delete(key);
          return;
        }
        if (this.#tasks.get(key) === task) {
          task.state = result.state;
          this.#requeue(key, task);
        }
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 're-creating the task key failed, retrying');
        if (this.#tasks.get(key) === task) this.#requeue(key, task, this.#o.clock() + this.#o.retryDelayMs);
      });
  }
}
