// The parts of a task's status the projection (status-projection.ts) is made of, and its events' references: the
// Ready condition, nextRunAt and the schedules gauge all derive from the same definition and run state here, so
// they cannot disagree.
import { RESUMED_AT_ANNOTATION } from '../api/annotations.ts';
import {
  type ConditionStatus,
  namespaceOf,
  type PeriodicTask,
  type ReadyReason,
  type TaskDefinition,
} from '../api/types.ts';
import type { BeatProblem } from '../beat/beat.ts';
import type { ReadyCondition, RunState, StatusUpdate, TaskRef } from '../contracts.ts';
import { compileTaskSchedule } from '../schedule/compile.ts';
import { type Completion, completionOf, isPaused } from '../schedule/completion.ts';
import { scheduleDayNote } from '../schedule/day-note.ts';
import { isPausedByFailures } from '../schedule/failure-pause.ts';
import type { Schedule } from '../schedule/schedule.ts';

export function refOf(object: PeriodicTask): TaskRef {
  const { name, uid = '' } = object.metadata;
  return { namespace: namespaceOf(object.metadata), name, uid };
}

/**
 * `KeyConflict`: the task's Redis key exists but belongs to something else, so it is left alone.
 * The beat's problems (`BeatProblem`): a message refused by the safety check, a publish the broker did not
 * take (retried), a slot that could not be planned.
 */
export type TaskReadyReason = ReadyReason | 'KeyConflict' | 'RunSkipped' | BeatProblem;

export function readyCondition(
  status: ConditionStatus,
  reason: TaskReadyReason,
  message: string,
): ReadyCondition {
  return { status, reason, message };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The run-state part of the status; lastRunAt is the slot of the last run, not the cursor. A task without a
 * next run says so (null), so that an earlier nextRunAt does not stay behind in the resource.
 */
export function runStatus(state: RunState, nextRunAt: number | null): StatusUpdate {
  const update: StatusUpdate = {
    totalRunCount: state.totalRunCount,
    missedRunCount: state.missedRunCount,
    nextRunAt: nextRunAt === null ? null : iso(nextRunAt),
  };
  // Shown while not zero, as the run state's tail carries them; back at zero (a run state recovered without
  // them), the field is removed, or the status would keep a count Redis no longer has.
  update.pausedRunCount = state.pausedRunCount > 0 ? state.pausedRunCount : null;
  update.unknownRunCount = state.unknownRunCount ? state.unknownRunCount : null;
  if (state.lastTaskSlot !== null) update.lastRunAt = iso(state.lastTaskSlot);
  if (state.lastTaskId !== null) update.lastTaskId = state.lastTaskId;
  return update;
}

/** What a known, valid task is doing: the `state` label of celerybeat_schedules and the Ready reason. */
export type ScheduleState = 'scheduled' | 'disabled' | 'paused' | 'completed';

export function scheduleState(
  def: TaskDefinition,
  state: RunState,
  now: number = Date.now(),
  schedule?: Schedule,
): ScheduleState {
  if (!def.enabled) return 'disabled';
  if (completionOf(def, state, schedule) !== null) return 'completed';
  if (isPaused(def, now) || isPausedByFailures(def, state)) return 'paused';
  return 'scheduled';
}

/** How the schedule reads its two day fields, when Celery and a CronJob would read them differently; else null. */
export function dayNote(def: TaskDefinition): string | null {
  return scheduleDayNote(def.schedule);
}

/** Runs shown after the day note: enough to see which days match, short enough for a column-width message. */
const NOTE_RUNS = 3;

/** The note with the task's next runs from `cursor`, so the user sees the days Celery's reading gives. */
export function noteWithNextRuns(note: string, schedule: Schedule, cursor: number): string {
  const runs: string[] = [];
  for (let at = schedule.next(cursor); at !== null && runs.length < NOTE_RUNS; at = schedule.next(at)) {
    runs.push(`${iso(at).slice(0, 19)}Z`);
  }
  const text = note.replace(/\.$/, '');
  return runs.length === 0 ? text : `${text}; next runs: ${runs.join(', ')}`;
}

const COMPLETED_MESSAGES: Record<Completion, (def: TaskDefinition) => string> = {
  'ran-once': () => 'ran once; it will not run again',
  'missed-once': () => 'its one slot passed without a run (missed); it will not run',
  'max-runs': (def) => `ran ${def.maxRuns} times (spec.maxRuns); it will not run again`,
  'end-time': (def) =>
    `no slot is left before spec.endTime ${iso(def.endTime as number)}; it will not run again`,
  'no-slot': () => 'no slot is left (past, or excluded by spec.exclude); it will not run again',
};

function completedMessage(def: TaskDefinition, state: RunState, schedule: Schedule | undefined): string {
  const completion = completionOf(def, state, schedule);
  return completion === null ? '' : COMPLETED_MESSAGES[completion](def);
}

/** The Ready condition of a valid task; a Scheduled task with a day note carries it in the message. */
export function readyOf(
  def: TaskDefinition,
  state: RunState,
  schedule?: Schedule,
  now: number = Date.now(),
): ReadyCondition {
  switch (scheduleState(def, state, now, schedule)) {
    case 'disabled':
      return readyCondition('False', 'Disabled', 'enabled is false');
    case 'paused': {
      if (!isPaused(def, now)) return readyCondition('False', 'Paused', pausedByFailuresMessage(def, state));
      const until = def.pause?.until;
      const resumes = until === undefined ? 'until spec.pause is removed' : `until ${iso(until)}`;
      return readyCondition('False', 'Paused', `${def.pause?.reason} (paused ${resumes})`);
    }
    case 'completed':
      return readyCondition('False', 'Completed', completedMessage(def, state, schedule));
    case 'scheduled': {
      const note = dayNote(def);
      const inert = inertNote(def);
      if (note === null) return readyCondition('True', 'Scheduled', inert ?? '');
      // Only tasks with a note pay for compiling here (the beat's listener has no Schedule at hand).
      const slots = schedule ?? compileTaskSchedule(def);
      const message = noteWithNextRuns(note, slots, state.cursor);
      return readyCondition('True', 'Scheduled', inert === undefined ? message : `${inert}; ${message}`);
    }
  }
}

/** Why a task is paused by its failures: how many, the newest failed run, its exception, and how to resume. */
export function pausedByFailuresMessage(def: TaskDefinition, state: RunState): string {
  const failures = state.failures;
  const count = failures?.count ?? 0;
  const last = failures === undefined ? '' : `; the last: task ${failures.taskId}`;
  const exception = failures?.exception === undefined ? '' : ` (${failures.exception})`;
  return `paused after ${count} failed runs in a row (spec.pauseAfterFailures: ${def.pauseAfterFailures})${last}${exception}; "kubectl celerybeat resume" (or the ${RESUMED_AT_ANNOTATION} annotation) resumes it`;
}

/** spec.pauseAfterFailures on an operator that reads no run results: said, since it has no effect. */
function inertNote(def: TaskDefinition): string | undefined {
  if (def.inertPauseAfterFailures === undefined) return undefined;
  return `spec.pauseAfterFailures has no effect: the operator runs without --result-backend, so it cannot see failed runs`;
}
