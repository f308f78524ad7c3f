// A Beat under a simulated clock: node:test's mock timers drive its setTimeout and Date, the simulation jumps
// from one due slot to the next (so simulated days cost a few steps, not one per second) and lets every
// promise settle between steps. A recording dispatcher plays the broker and a rival dispatcher: it answers
// 'ok', and by a script drawn with the case also 'publish-failed', 'conflict' (a rival recorded the slot
// first), 'missing' (the key vanished) or throws, and it checks each slot as it goes out.
import { mock } from 'node:test';
import type { TaskDefinition } from '../../src/api/types.ts';
import { Beat, type BeatListener } from '../../src/beat/beat.ts';
import { StoreUnavailableError } from '../../src/beat/dispatch-failure.ts';
import { pythonIsoUtc } from '../../src/celery/iso-time.ts';
import { checkTaskMessage } from '../../src/celery/message-check.ts';
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import type { PlannedSlot, RunState, SlotDispatcher, SlotOutcome, TaskMessage } from '../../src/contracts.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { compileTaskSchedule } from '../../src/schedule/compile.ts';
import type { Schedule } from '../../src/schedule/schedule.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { MemoryTaskStore } from '../support/fakes/memory-task-store.ts';

export type Outcome = 'ok' | 'publish-failed' | 'conflict' | 'missing' | 'throw';

/** One slot that reached the broker, by the beat or by the simulated rival. */
export interface Published {
  key: string;
  uid: string;
  /** Which version of the task (0 = as created, +1 per edit) was current when it went out. */
  version: number;
  slot: number;
  at: number;
  by: 'beat' | 'rival';
  message: TaskMessage;
}

/** A task as the simulation knows it: the definition the beat has now, and since when. */
export interface Current {
  def: TaskDefinition;
  schedule: Schedule;
  version: number;
  /** Created fresh with this cursor (version 0), for the accounting check. */
  initialCursor: number;
  since: number;
  deleted: boolean;
}

/** A small deterministic PRNG (mulberry32), seeded by the case: the outcome script replays with the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const freshState = (cursor: number): RunState => ({
  cursor,
  totalRunCount: 0,
  lastTaskId: null,
  lastTaskSlot: null,
  missedRunCount: 0,
  pausedRunCount: 0,
});

/** Small enough that a catch-up of every slot settles within one step of the simulation. */
export const MAX_BACKFILL = 20;

export class SimWorld {
  readonly store = new MemoryTaskStore();
  readonly published: Published[] = [];
  /** Everything that breaks an invariant, as text; the property asserts it stays empty. */
  readonly violations: string[] = [];
  readonly rejected: string[] = [];
  readonly current = new Map<string, Current>();
  readonly beat: Beat;
  readonly #random: () => number;
  readonly #rates: Record<Outcome, number>;
  #inFlight = 0;
  readonly #unhandled: unknown[] = [];
  readonly #onUnhandled = (reason: unknown): void => {
    this.#unhandled.push(reason);
  };
  #saved: NodeJS.UnhandledRejectionListener[] = [];

  constructor(opts: {
    seed: number;
    rates: Record<Outcome, number>;
    batchSize: number;
    start: number;
    /** --max-backfill: the most slots a catchUp All task runs after one gap. */
    maxBackfill?: number;
  }) {
    this.#random = prng(opts.seed);
    this.#rates = opts.rates;
    const listener: BeatListener = {
      recorded: () => {},
      // A failed publish or an unreachable store is reported too (the Ready reason): only a refused or
      // unplannable slot, or a dispatcher defect, is a fault here.
      rejected: (def: TaskDefinition, reason: string, problem?: string) => {
        if (problem !== 'PublishFailed' && problem !== 'StoreUnavailable')
          this.rejected.push(`${def.namespace}/${def.name}: ${problem ?? ''} ${reason}`);
      },
      fenced: () => {},
    };
    // The runner's own handler would fail the whole file; here a rejection is a counterexample to shrink.
    this.#saved = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', this.#onUnhandled);
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: opts.start });
    // The beat dispatches scheduled slots only (manual runs are not part of the simulation).
    const dispatcher: SlotDispatcher = { dispatch: (slots) => this.#dispatch(slots as PlannedSlot[]) };
    this.beat = new Beat({
      dispatcher,
      listener,
      logger: createLogger('silent'),
      clock: () => Date.now(),
      batchSize: opts.batchSize,
      maxBackfill: opts.maxBackfill ?? MAX_BACKFILL,
      // The product's retry backoff without jitter, so that a seed replays the same run.
      random: () => 1,
    });
  }

  get now(): number {
    return Date.now();
  }

  get unhandled(): readonly unknown[] {
    return this.#unhandled;
  }

  /** Creates (or re-creates, with a new uid) a task as the reconciler does: store first, then the beat. */
  async create(def: TaskDefinition, cursor: number): Promise<void> {
    const key = `${def.namespace}/${def.name}`;
    const result = await this.store.upsert(def, freshState(cursor));
    if (result.status === 'foreign') throw new Error(`${key}: foreign in a fresh store`);
    const schedule = compileTaskSchedule(def);
    this.current.set(key, {
      def,
      schedule,
      version: 0,
      initialCursor: cursor,
      since: this.now,
      deleted: false,
    });
    this.beat.set(key, { def, schedule, state: result.state });
  }

  /**
   * Replaces the definition, keeping the run state; a changed schedule starts from now: the beat is told to
   * move the cursor (as the reconciler tells it).
   */
  async edit(key: string, def: TaskDefinition): Promise<void> {
    const cur = this.current.get(key);
    const task = this.beat.get(key);
    if (!cur || cur.deleted || !task) return;
    const result = await this.store.upsert(def, task.state);
    if (result.status === 'foreign') throw new Error(`${key}: foreign on edit`);
    const timing = (d: TaskDefinition): string =>
      JSON.stringify([d.schedule, d.timeZone, d.startTime ?? null, d.endTime ?? null, d.maxRuns ?? null]);
    const move =
      timing(cur.def) !== timing(def) ? { reason: 'schedule-changed' as const, at: this.now } : undefined;
    const schedule = compileTaskSchedule(def);
    this.current.set(key, { ...cur, def, schedule, version: cur.version + 1, since: this.now });
    this.beat.set(key, { def, schedule, state: result.state }, true, move);
  }

  async delete(key: string): Promise<void> {
    const cur = this.current.get(key);
    if (!cur || cur.deleted) return;
    this.beat.delete(key);
    await this.store.delete(key, cur.def.uid);
    this.current.set(key, { ...cur, deleted: true, since: this.now });
  }

  #pick(): Outcome {
    let r = this.#random();
    for (const [outcome, rate] of Object.entries(this.#rates) as [Outcome, number][]) {
      if (r < rate) return outcome;
      r -= rate;
    }
    return 'ok';
  }

  async #dispatch(slots: PlannedSlot[]): Promise<SlotOutcome[]> {
    this.#inFlight += 1;
    try {
      await Promise.resolve();
      if (this.#pick() === 'throw') throw new StoreUnavailableError(new Error('simulated lost connection'));
      return slots.map((slot) => this.#one(slot));
    } finally {
      this.#inFlight -= 1;
    }
  }

  #one(slot: PlannedSlot): SlotOutcome {
    const outcome = this.#pick();
    if (outcome === 'publish-failed') return { status: 'publish-failed', error: new Error('simulated') };
    if (outcome === 'missing') {
      this.store.keys.delete(slot.taskKey);
      return { status: 'missing' };
    }
    const result = this.store.claim({ taskKey: slot.taskKey, expected: slot.expected, next: slot.next });
    if (result.status === 'ok' && slot.publish) this.#record(slot, outcome === 'conflict' ? 'rival' : 'beat');
    // A rival dispatcher recorded (and published) this very slot first: the beat sees a conflict.
    if (result.status === 'ok' && outcome === 'conflict') return { status: 'conflict', stored: slot.next };
    return result;
  }

  #record(slot: PlannedSlot, by: 'beat' | 'rival'): void {
    const key = slot.taskKey;
    const cur = this.current.get(key);
    const message = slot.publish!.message;
    const run = slot.next.lastTaskSlot;
    const now = this.now;
    const fail = (what: string): void => {
      this.violations.push(`${key} slot ${run} at ${now}: ${what}`);
    };
    const refused =
      !cur || cur.deleted
        ? 'published for a deleted task'
        : !cur.def.enabled
          ? 'published while disabled'
          : run === null
            ? 'a publishing slot without lastTaskSlot'
            : undefined;
    if (refused !== undefined || !cur || run === null) {
      fail(refused ?? '');
      return;
    }
    this.published.push({ key, uid: cur.def.uid, version: cur.version, slot: run, at: now, by, message });
    try {
      checkTaskMessage(message, now);
    } catch (error) {
      fail(`message check: ${(error as Error).message}`);
    }
    const expectedId = taskIdForSlot(key, cur.def.uid, run);
    if (message.headers.id !== expectedId || slot.next.lastTaskId !== expectedId)
      fail(`task id ${String(message.headers.id)} is not taskIdForSlot(…) = ${expectedId}`);
    if (message.headers.task !== cur.def.task)
      fail(`task ${String(message.headers.task)} is not the current definition's`);
    if (message.body !== JSON.stringify([cur.def.args, cur.def.kwargs, JSON.parse(message.body)[2]]))
      fail("args/kwargs are not the current definition's");
    if (message.headers.periodic_task_scheduled_at !== pythonIsoUtc(run))
      fail('periodic_task_scheduled_at is not the slot');
    if (run > now) fail(`published ${run - now} ms early`);
    const latest = cur.schedule.latest(slot.expected.cursor, run);
    if (latest?.slot !== run) fail(`not a slot of the current schedule after cursor ${slot.expected.cursor}`);
    const deadline = cur.def.startingDeadlineSeconds;
    if (deadline !== undefined && now - run > deadline * 1000) fail('published after its starting deadline');
    if (cur.version === 0 && cur.def.startTime !== undefined && run < cur.def.startTime)
      fail(`published before startTime ${cur.def.startTime}`);
    if (cur.def.endTime !== undefined && run > cur.def.endTime)
      fail(`published after endTime ${cur.def.endTime}`);
    // The run state's count, which carries over edits, leader changes and rivals: never beyond maxRuns.
    if (cur.def.maxRuns !== undefined && slot.next.totalRunCount > cur.def.maxRuns)
      fail(`run ${slot.next.totalRunCount} of a task with maxRuns ${cur.def.maxRuns}`);
  }

  /** Lets every promise settle and every timer due now fire (batches re-arm with a zero delay). */
  async quiesce(): Promise<void> {
    if (!(await this.#settle())) return;
    // A catchUp All task's slots are one wake-up each, due at once: let those of one gap go out too.
    for (
      let turn = 0;
      turn < MAX_BACKFILL && (this.nextDue() ?? Number.POSITIVE_INFINITY) <= this.now;
      turn++
    )
      if (!(await this.#settle())) return;
  }

  /** Runs the timers due now until no batch is in flight; false (a violation) when they never stop. */
  async #settle(): Promise<boolean> {
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      mock.timers.tick(0);
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#inFlight === 0) return true;
    }
    this.violations.push('the beat did not settle within 200 turns');
    return false;
  }

  /** The earliest slot the beat will act on, or null. */
  nextDue(): number | null {
    let due: number | null = null;
    for (const [key, cur] of this.current) {
      if (cur.deleted) continue;
      const next = this.beat.nextRunAt(key);
      if (next !== null && (due === null || next < due)) due = next;
    }
    return due;
  }

  /** Advances to the next due slot (or by `retryMs` when a retry is pending, or by `jump` for a stall). */
  async step(limit: number, jump?: number): Promise<void> {
    const now = this.now;
    let target: number;
    if (jump !== undefined) target = now + jump;
    else {
      const due = this.nextDue();
      target = due === null ? limit : due <= now ? now + 1000 : Math.ceil(due);
    }
    target = Math.min(Math.max(target, now + 1), limit);
    mock.timers.tick(target - now);
    await this.quiesce();
  }

  async close(): Promise<void> {
    try {
      await this.beat.stop();
      await this.quiesce();
    } finally {
      mock.timers.reset();
      process.removeListener('unhandledRejection', this.#onUnhandled);
      for (const l of this.#saved) process.on('unhandledRejection', l);
    }
  }
}

/** No scripted outcome: every dispatch answers as the store does. */
export const NO_FAULTS: Record<Outcome, number> = {
  'publish-failed': 0,
  conflict: 0,
  missing: 0,
  throw: 0,
  ok: 0,
};

/** A generated spec as the validator turns it into a definition, in the namespace `prop`. */
export function specDefinition(
  spec: unknown,
  name: string,
  uid: string,
  defaultTimeZone: string,
  generation = 1,
): TaskDefinition {
  const manifest = {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace: 'prop', uid, generation },
    spec,
  };
  const result = validatePeriodicTask(manifest, { defaultTimeZone });
  if (!result.ok)
    throw new Error(`the validator refuses a generated valid spec: ${JSON.stringify(result.errors)}`);
  return result.definition;
}
