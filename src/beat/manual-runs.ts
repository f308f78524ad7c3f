// Runs outside the schedule, asked for with annotations: `celerybeat.io/run-now` (one extra run per value)
// and `celerybeat.io/backfill` (the slots of a past range that have not run). Each run is claimed in Redis
// before it is published (ManualRunRecord), so it goes out at most once whichever replica handles it and
// however often the same manifest is applied; a publish that fails gives its claim back and is retried.
// The regular schedule (cursor, run counts) is not touched.
import { BACKFILL_ANNOTATION, RUN_NOW_ANNOTATION } from '../api/annotations.ts';
import type { BackfillStatus, PeriodicTaskStatus, TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import { projectUuid } from '../api/uuid-v5.ts';
import { buildTaskMessage } from '../celery/message.ts';
import { taskIdForSlot } from '../celery/task-id.ts';
import type { Broker, ManualRunRecord, RunObserver, RunState, SlotRange, StatusSink } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { PERIOD_MICROSECONDS } from '../schedule/interval-schedule.ts';
import type { Schedule } from '../schedule/schedule.ts';

export interface ManualRunsOptions {
  record: ManualRunRecord;
  broker: Broker;
  status: StatusSink;
  logger: Logger;
  /** --max-backfill: a range with more slots is refused (TooLarge), nothing is sent. */
  maxBackfill: number;
  runs?: RunObserver;
  clock?: () => number;
  retryMs?: number;
}

interface Request {
  def: TaskDefinition;
  schedule: Schedule;
  state: RunState;
  annotations: Readonly<Record<string, string>>;
  status: PeriodicTaskStatus | undefined;
}

const FINISHED: ReadonlySet<BackfillStatus['state']> = new Set(['Done', 'TooLarge', 'Invalid']);

export class ManualRuns {
  readonly #o: ManualRunsOptions;
  readonly #clock: () => number;
  /** What was handled per task, so a re-read of the same object costs nothing. */
  readonly #handled = new Map<string, { runNow?: string; backfill?: string }>();
  readonly #busy = new Set<string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();

  constructor(options: ManualRunsOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
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
      .catch((error: unknown) => {
        this.#o.logger.warn({ err: error, task: key }, 'manual run failed; retrying');
        this.#retry(key, req);
      })
      .finally(() => this.#busy.delete(key));
  }

  /** A new task key: its first cursor is what backfill compares slots with. */
  created(key: string, cursor: number): void {
    this.#o.record.firstSeen(key, cursor).catch((error: unknown) => {
      this.#o.logger.warn({ err: error, task: key }, 'recording when the task was first seen failed');
    });
  }

  /** Slots the beat accounted for without running them: backfill may run them later. */
  unrun(key: string, range: SlotRange): void {
    this.#o.record.recordUnrun(key, range).catch((error: unknown) => {
      this.#o.logger.warn({ err: error, task: key }, 'recording slots that did not run failed');
    });
  }

  /** The task is gone: its records go with it. */
  async forget(key: string): Promise<void> {
    this.#handled.delete(key);
    clearTimeout(this.#retries.get(key));
    this.#retries.delete(key);
    await this.#o.record.forget(key);
  }

  stop(): void {
    for (const timer of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
  }

  #retry(key: string, req: Request): void {
    clearTimeout(this.#retries.get(key));
    const timer = setTimeout(() => {
      this.#retries.delete(key);
      this.request(req);
    }, this.#o.retryMs ?? 5000);
    timer.unref();
    this.#retries.set(key, timer);
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
      await this.#runOnce(key, req.def, `run-now:${token}`, id, this.#clock(), false);
      handled.runNow = token;
      this.#o.status.report(req.def.namespace, req.def.name, { lastRunNow: token });
      this.#o.logger.info(
        { namespace: req.def.namespace, name: req.def.name, token, taskId: id },
        'run-now handled',
      );
    }
    if (range !== undefined) {
      await this.#backfill(key, req, range);
      handled.backfill = range;
    }
  }

  /** Claims, publishes, and gives the claim back if the broker did not take the message. */
  async #runOnce(
    key: string,
    def: TaskDefinition,
    claim: string,
    id: string,
    at: number,
    backfilled: boolean,
  ) {
    if (!(await this.#o.record.claim(key, claim))) return false;
    // A backfilled slot is past by design: an expiry counted from it would drop the run at once.
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
    });
    const [outcome] = await this.#o.broker.publish([{ message, options }]);
    if (!outcome?.ok) {
      await this.#o.record.release(key, claim);
      throw outcome?.error ?? new Error('the broker did not take the message');
    }
    this.#o.runs?.sent(def, id, at, this.#clock());
    return true;
  }

  async #backfill(key: string, req: Request, range: string): Promise<void> {
    const { def, schedule, state } = req;
    const report = (progress: BackfillStatus) =>
      this.#o.status.report(def.namespace, def.name, { backfill: progress });
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
      if (slots.length > this.#o.maxBackfill) break;
    }
    if (slots.length > this.#o.maxBackfill) {
      const message = `the range has more than ${this.#o.maxBackfill} slots (--max-backfill); nothing was sent`;
      report({ range, slots: slots.length, sent: 0, alreadyRun: 0, state: 'TooLarge', message });
      return;
    }
    const { firstSeen, unrun } = await this.#o.record.read(key);
    let sent = 0;
    let alreadyRun = 0;
    for (const slot of slots) {
      if (ranByTheSchedule(slot, firstSeen, unrun)) alreadyRun += 1;
      else if (await this.#runOnce(key, def, `slot:${slot}`, taskIdForSlot(key, def.uid, slot), slot, true))
        sent += 1;
      else alreadyRun += 1;
      if ((sent + alreadyRun) % 100 === 0)
        report({ range, slots: slots.length, sent, alreadyRun, state: 'Running' });
    }
    report({ range, slots: slots.length, sent, alreadyRun, state: 'Done' });
    this.#o.logger.info(
      { namespace: def.namespace, name: def.name, range, sent, alreadyRun },
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
