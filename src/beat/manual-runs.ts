// Runs outside the schedule, asked for with annotations: `celerybeat.io/run-now` (one extra run per value)
// and `celerybeat.io/backfill` (the slots of a past range that have not run). Each run is a manual slot with
// its own claim identity, dispatched by the beat's SlotDispatcher with the same guarantees as a scheduled
// slot (fence token, durable claims, the same-server script): it goes out at most once whichever replica
// handles it and however often the same manifest is applied. A publish refused gives its claim back and is
// retried; one of unknown outcome keeps its claim (never sent again) and is counted in unknownRunCount.
// The regular schedule (cursor, run counts) is not touched.
import { BACKFILL_ANNOTATION, RUN_NOW_ANNOTATION } from '../api/annotations.ts';
import type { BackfillStatus, PeriodicTaskStatus, TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import { projectUuid } from '../api/uuid-v5.ts';
import { buildTaskMessage } from '../celery/message.ts';
import { taskIdForSlot } from '../celery/task-id.ts';
import type {
  ManualRunRecord,
  ManualSlot,
  RunObserver,
  RunState,
  SlotDispatcher,
  SlotOutcome,
  SlotRange,
  StatusSink,
} from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { dispatchesTotal } from '../observe/metrics.ts';
import { PERIOD_MICROSECONDS } from '../schedule/interval-schedule.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { WorkQueue } from '../workqueue/work-queue.ts';

export interface ManualRunsOptions {
  record: ManualRunRecord;
  /** The beat's dispatcher: manual runs are claimed and published the way scheduled slots are. */
  dispatcher: SlotDispatcher;
  /** The fence token of the beat's dispatches ("" when not fenced). */
  fenceToken?: () => string;
  /** Told of the run state after a manual run of unknown outcome was counted in it (the beat takes it). */
  counted?: (taskKey: string, state: RunState) => void;
  status: StatusSink;
  logger: Logger;
  /** --max-backfill: a range with more slots is refused (TooLarge), nothing is sent. */
  maxBackfill: number;
  runs?: RunObserver;
  clock?: () => number;
  /** A failed manual run is retried after this wait, doubling per failure up to a minute. Default 5 s. */
  retryMs?: number;
}

interface Request {
  def: TaskDefinition;
  schedule: Schedule;
  state: RunState;
  annotations: Readonly<Record<string, string>>;
  status: PeriodicTaskStatus | undefined;
}

/** Backfilled slots per dispatch; the status shows the progress after each batch. */
const BACKFILL_BATCH = 100;

const FINISHED: ReadonlySet<BackfillStatus['state']> = new Set(['Done', 'TooLarge', 'Invalid']);

export class ManualRuns {
  readonly #options: ManualRunsOptions;
  readonly #clock: () => number;
  /** What was handled per task, so a re-read of the same object costs nothing. */
  readonly #handled = new Map<string, { runNow?: string; backfill?: string }>();
  readonly #busy = new Set<string>();
  /** Failed tasks wait out their backoff here; the request to retry is the latest seen of the task. */
  readonly #retries: WorkQueue<string>;
  readonly #toRetry = new Map<string, Request>();

  constructor(options: ManualRunsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    const initialMs = options.retryMs ?? 5000;
    this.#retries = new WorkQueue({
      backoff: { initialMs, maxMs: Math.max(initialMs, 60_000) },
      onReady: () => this.#retryDue(),
    });
  }

  /** Looks at a valid task's annotations; work found is done in the background. */
  request(req: Request): void {
    const key = taskKey(req.def.namespace, req.def.name);
    const handled = this.#handled.get(key) ?? {};
    const token = req.annotations[RUN_NOW_ANNOTATION];
    const range = req.annotations[BACKFILL_ANNOTATION];
    const runNow = token !== undefined && token !== handled.runNow && req.status?.lastRunNow !== token;
    const backfill =
      range !== undefined &&
      range !== handled.backfill &&
      !(req.status?.backfill?.range === range && FINISHED.has(req.status.backfill.state));
    if (!runNow && !backfill) return;
    if (this.#busy.has(key)) return;
    this.#busy.add(key);
    void this.#work(key, req, runNow ? token : undefined, backfill ? range : undefined)
      .then(
        () => this.#retries.forget(key),
        (error: unknown) => {
          const retryInMs = this.#retries.addRateLimited(key);
          this.#toRetry.set(key, req);
          this.#options.logger.warn({ err: error, task: key, retryInMs }, 'manual run failed; retrying');
        },
      )
      .finally(() => this.#busy.delete(key));
  }

  /** A new task key: its first cursor is what backfill compares slots with. */
  created(key: string, cursor: number): void {
    this.#options.record.firstSeen(key, cursor).catch((error: unknown) => {
      this.#options.logger.warn({ err: error, task: key }, 'recording when the task was first seen failed');
    });
  }

  /** Slots the beat accounted for without running them: backfill may run them later. */
  unrun(key: string, range: SlotRange): void {
    this.#options.record.recordUnrun(key, range).catch((error: unknown) => {
      this.#options.logger.warn({ err: error, task: key }, 'recording slots that did not run failed');
    });
  }

  /** The task is gone: its records go with it. */
  async forget(key: string): Promise<void> {
    this.#handled.delete(key);
    this.#retries.forget(key);
    this.#toRetry.delete(key);
    await this.#options.record.forget(key);
  }

  stop(): void {
    this.#retries.clear();
    this.#toRetry.clear();
  }

  /** Tasks whose backoff has passed: their latest request is made again. */
  #retryDue(): void {
    for (let key = this.#retries.get(); key !== undefined; key = this.#retries.get()) {
      this.#retries.done(key);
      const req = this.#toRetry.get(key);
      this.#toRetry.delete(key);
      if (req) this.request(req);
    }
  }

  async #work(
    key: string,
    req: Request,
    token: string | undefined,
    range: string | undefined,
  ): Promise<void> {
    const handled = this.#handled.get(key) ?? {};
    this.#handled.set(key, handled);
    if (token !== undefined) {
      const id = projectUuid(`${key}/${req.def.uid}/run-now/${token}`);
      const at = this.#clock();
      const [outcome] = await this.#dispatch([this.#slot(key, req.def, `run-now:${token}`, id, at, false)]);
      const result = this.#runOutcome(key, req.def, outcome!);
      if (result === 'sent') this.#options.runs?.sent(req.def, id, at, this.#clock());
      handled.runNow = token;
      this.#options.status.report(req.def.namespace, req.def.name, { lastRunNow: token });
      this.#options.logger.info(
        { namespace: req.def.namespace, name: req.def.name, token, taskId: id, result },
        'run-now handled',
      );
    }
    if (range !== undefined) {
      await this.#backfill(key, req, range);
      handled.backfill = range;
    }
  }

  /** A manual run as a slot for the dispatcher; a backfilled one keeps no expiry (its slot is past by design). */
  #slot(
    key: string,
    def: TaskDefinition,
    claim: string,
    id: string,
    at: number,
    backfilled: boolean,
  ): ManualSlot {
    const { expires: _expires, ...unexpiring } = def.options;
    const options = backfilled ? unexpiring : def.options;
    const message = buildTaskMessage({
      task: def.task,
      id,
      args: def.args,
      kwargs: def.kwargs,
      options,
      scheduledAt: at,
      periodicTaskName: key,
      namespace: def.namespace,
      ...(def.originalName === undefined ? {} : { originalName: def.originalName }),
    });
    return { taskKey: key, claim, publish: { message, options } };
  }

  async #dispatch(slots: ManualSlot[]): Promise<SlotOutcome[]> {
    return this.#options.dispatcher.dispatch(slots, this.#options.fenceToken?.() ?? '');
  }

  /**
   * What one manual run's dispatch came to: sent, claimed before (not sent again), or sent with an unknown
   * outcome (kept, not sent again). Anything else throws, so the request is retried.
   */
  #runOutcome(key: string, def: TaskDefinition, outcome: SlotOutcome): 'sent' | 'before' | 'unknown' {
    switch (outcome.status) {
      case 'ok':
        dispatchesTotal.inc({ result: 'published' });
        return 'sent';
      case 'claimed-before':
        // Under way elsewhere, or abandoned too recently to tell: asked again later.
        if (outcome.claim.state === 'publishing')
          throw new Error(
            `its claim of ${new Date(outcome.claim.since).toISOString()} is still under way (another dispatcher publishing it, or one that stopped: then counted as unknown a minute after the claim)`,
          );
        return 'before';
      case 'unknown':
        dispatchesTotal.inc({ result: 'unknown' });
        this.#options.logger.warn(
          { namespace: def.namespace, name: def.name, err: outcome.error },
          'manual run of unknown outcome: counted as unknown, not sent again',
        );
        if (outcome.stored) this.#options.counted?.(key, outcome.stored);
        return 'unknown';
      case 'publish-failed':
        dispatchesTotal.inc({ result: 'failed' });
        throw outcome.error;
      default:
        throw new Error(`the manual run was not dispatched: ${outcome.status}`);
    }
  }

  async #backfill(key: string, req: Request, range: string): Promise<void> {
    const { def, schedule, state } = req;
    const report = (progress: BackfillStatus) =>
      this.#options.status.report(def.namespace, def.name, { backfill: progress });
    const bounds = parseRange(range);
    if (typeof bounds === 'string') {
      report({ range, slots: 0, sent: 0, alreadyRun: 0, state: 'Invalid', message: bounds });
      return;
    }
    // Slots after the cursor are the schedule's own (due now or later): never backfilled.
    const upTo = Math.min(bounds.to, state.cursor);
    const slots: number[] = [];
    for (
      let at = firstSlotFrom(def, schedule, state.cursor, bounds.from);
      at !== null && at <= upTo;
      at = schedule.next(at)
    ) {
      slots.push(at);
      if (slots.length > this.#options.maxBackfill) break;
    }
    if (slots.length > this.#options.maxBackfill) {
      const message = `the range has more than ${this.#options.maxBackfill} slots (--max-backfill); nothing was sent`;
      report({ range, slots: slots.length, sent: 0, alreadyRun: 0, state: 'TooLarge', message });
      return;
    }
    const { firstSeen, unrun } = await this.#options.record.read(key);
    const toRun = slots.filter((slot) => !ranByTheSchedule(slot, firstSeen, unrun));
    let sent = 0;
    let alreadyRun = slots.length - toRun.length;
    let unknown = 0;
    const progress = (state: BackfillStatus['state']): BackfillStatus => ({
      range,
      slots: slots.length,
      sent,
      alreadyRun,
      ...(unknown > 0 ? { unknown } : {}),
      state,
    });
    for (let start = 0; start < toRun.length; start += BACKFILL_BATCH) {
      const batch = toRun.slice(start, start + BACKFILL_BATCH);
      const outcomes = await this.#dispatch(
        batch.map((slot) =>
          this.#slot(key, def, `slot:${slot}`, taskIdForSlot(key, def.uid, slot), slot, true),
        ),
      );
      let failure: unknown;
      outcomes.forEach((outcome, i) => {
        try {
          const result = this.#runOutcome(key, def, outcome);
          if (result === 'sent') {
            sent += 1;
            this.#options.runs?.sent(def, taskIdForSlot(key, def.uid, batch[i]!), batch[i]!, this.#clock());
          } else if (result === 'unknown') unknown += 1;
          else alreadyRun += 1;
        } catch (error) {
          failure ??= error;
        }
      });
      if (failure !== undefined) throw failure;
      if (start + BACKFILL_BATCH < toRun.length) report(progress('Running'));
    }
    report(progress('Done'));
    this.#options.logger.info(
      { namespace: def.namespace, name: def.name, range, sent, alreadyRun, unknown },
      'backfill done',
    );
  }
}

/**
 * Whether the schedule itself ran a slot at or before the cursor: it did unless the slot is not after the
 * task's first cursor (the task did not exist yet) or lies in a range accounted for without a run. A task
 * first seen before these records existed has no first cursor: its slots count as run (never sent twice).
 */
function ranByTheSchedule(slot: number, firstSeen: number | null, unrun: readonly SlotRange[]): boolean {
  if (firstSeen !== null && slot <= firstSeen) return false;
  return !unrun.some((r) => slot > r.after && slot <= r.upTo);
}

/** The first slot at or after `from`: an interval's slots lie on the grid through the cursor. */
function firstSlotFrom(def: TaskDefinition, schedule: Schedule, cursor: number, from: number): number | null {
  if (def.schedule.kind !== 'interval') return schedule.next(from - 0.001);
  const step = (def.schedule.every * PERIOD_MICROSECONDS[def.schedule.period]) / 1000;
  return cursor - Math.floor((cursor - from) / step) * step;
}

function parseRange(range: string): { from: number; to: number } | string {
  const [fromText, toText, ...rest] = range.split('/');
  const from = Date.parse(fromText ?? '');
  const to = Date.parse(toText ?? '');
  if (rest.length > 0 || Number.isNaN(from) || Number.isNaN(to)) {
    return `"${range}" is not <from>/<to> in RFC 3339, such as 2026-12-01T00:00:00Z/2026-12-02T00:00:00Z`;
  }
  if (from > to) return `"${range}": from is after to`;
  return { from, to };
}
