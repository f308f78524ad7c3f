// A task's status is a projection: one pure function (`projectStatus`) from what each owner knows — the
// definition (the reconciler), the run state and the next run (the beat), the problem that keeps the task from
// running as defined, the results (the result backend) and the manual runs — and `StatusProjection`, the one
// module that hands status to the StatusSink, hands it only what that function returns. A new status field is
// added to the types, the schema and `projectStatus`; nothing else.
import type { PeriodicTaskStatus, TaskDefinition } from '../api/types.ts';
import type { BeatListener } from '../beat/beat.ts';
import type {
  ReadyCondition,
  RunObserver,
  RunResults,
  RunResultsListener,
  RunState,
  StatusSink,
  StatusUpdate,
  TaskEvents,
} from '../contracts.ts';
import { describeSchedule } from '../schedule/describe.ts';
import type { Schedule } from '../schedule/schedule.ts';
import { pausedByFailuresMessage, readyCondition, readyOf, runStatus } from './task-status.ts';

/**
 * The definition: a valid one (its schedule compiled, when at hand), or why it is not valid. `observed`: the
 * reconciler has brought the task in line with it, so observedGeneration and SCHEDULE follow it.
 */
export type DefinitionInput =
  | { def: TaskDefinition; schedule?: Schedule; observed?: boolean }
  | { invalid: string; generation: number | undefined };

/** The manual runs' part of the status (run-now and backfill annotations). */
export type ManualRunsStatus = Pick<PeriodicTaskStatus, 'lastRunNow' | 'backfill'>;

/** What a task's status is made of; each part is there when its owner has something new to say. */
export interface StatusInputs {
  definition?: DefinitionInput;
  /** The run state and when the task next acts (null: it has no next run). */
  run?: { state: RunState; nextRunAt: number | null };
  /** Why the task does not run as defined (a beat or store problem, a key conflict), or what its last slot did. */
  problem?: ReadyCondition;
  /** The task has no next run, whatever its run state says (its key is someone else's). */
  noNextRun?: boolean;
  results?: RunResults;
  manual?: ManualRunsStatus;
  now: number;
}

/**
 * The status fields the inputs determine. Ready: an invalid spec says so; a task that is not scheduled
 * (disabled, paused, completed) says that over any problem, since it is not trying to run; otherwise the
 * problem, else Scheduled.
 */
export function projectStatus(inputs: StatusInputs): StatusUpdate {
  const { definition, run, problem } = inputs;
  const update: StatusUpdate = {};
  let ready: ReadyCondition | undefined = problem;
  if (definition && 'invalid' in definition) {
    // Nothing of the old schedule holds any more: SCHEDULE says "invalid" and there is no next run.
    update.observedGeneration = definition.generation;
    update.schedule = 'invalid';
    update.nextRunAt = null;
    ready = readyCondition('False', 'InvalidSpec', definition.invalid);
  } else if (definition?.observed) {
    const { def } = definition;
    update.observedGeneration = def.generation;
    update.schedule = describeSchedule(def.schedule, def.timeZone);
  }
  if (run) Object.assign(update, runStatus(run.state, run.nextRunAt));
  if (inputs.noNextRun) update.nextRunAt = null;
  if (definition && 'def' in definition && run) {
    const defined = readyOf(definition.def, run.state, definition.schedule, inputs.now);
    if (!problem || defined.status === 'False') ready = defined;
    // Zero too, for a task that counts them: a SUCCESS or a resume clears the count shown.
    if (definition.def.pauseAfterFailures !== undefined)
      update.consecutiveFailures = run.state.failures?.count ?? 0;
  }
  if (ready) update.ready = ready;
  Object.assign(update, inputs.results, inputs.manual);
  return update;
}

/**
 * The one writer of status: each owner tells it what it knows, and the StatusSink gets the projection of it.
 * Also the beat's listener (runs recorded, slots skipped, problems) and the result backend's.
 */
export class StatusProjection implements RunResultsListener {
  readonly #sink: StatusSink;
  readonly #clock: () => number;

  constructor(sink: StatusSink, clock: () => number = Date.now) {
    this.#sink = sink;
    this.#clock = clock;
  }

  /** Writes the projection of `inputs` for one resource. */
  project(namespace: string, name: string, inputs: Omit<StatusInputs, 'now'>): void {
    this.#sink.report(namespace, name, projectStatus({ ...inputs, now: this.#clock() }));
  }

  results(namespace: string, name: string, results: RunResults): void {
    this.project(namespace, name, { results });
  }

  /**
   * The run-now and backfill bookkeeping reports its fields as a StatusSink would; they join the projection as
   * the manual-runs part, and nothing else of what it reports is written.
   */
  manualRuns(): StatusSink {
    return {
      report: (namespace, name, update) => {
        const manual: ManualRunsStatus = {};
        if (update.lastRunNow !== undefined) manual.lastRunNow = update.lastRunNow;
        if (update.backfill !== undefined) manual.backfill = update.backfill;
        this.project(namespace, name, { manual });
      },
      flush: () => this.#sink.flush(),
    };
  }

  /** The beat's listener: recorded slots, skipped ones and problems become status (and problems Events). */
  beatListener(events: TaskEvents, onFenced: () => void, runs?: RunObserver): BeatListener {
    return {
      recorded: (def, state, nextRunAt) =>
        this.project(def.namespace, def.name, { definition: { def }, run: { state, nextRunAt } }),
      sent: (def, taskId, slot, sentAt) => runs?.sent(def, taskId, slot, sentAt),
      skipped: (def, state, nextRunAt, reason) =>
        this.project(def.namespace, def.name, {
          definition: { def },
          run: { state, nextRunAt },
          problem: readyCondition('True', 'RunSkipped', reason),
        }),
      rejected: (def, reason, problem = 'MessageRejected') => {
        events.warning(def, problem, reason);
        this.project(def.namespace, def.name, { problem: readyCondition('False', problem, reason) });
      },
      pausedByFailures: (def, state) =>
        events.warning(def, 'PausedAfterFailures', pausedByFailuresMessage(def, state)),
      fenced: onFenced,
    };
  }
}
