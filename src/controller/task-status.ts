// What the controller tells the outside about a task: status updates (through the StatusSink) and events.
// The Ready condition, nextRunAt and the schedules gauge all derive from the same definition and run state
// here, so they cannot disagree.
import type { ConditionStatus, PeriodicTask, ReadyReason, TaskDefinition } from '../api/types.ts';
import type { BeatProblem } from '../beat/beat.ts';
import type { ReadyCondition, RunState, StatusUpdate, TaskRef } from '../contracts.ts';
import { compileSchedule } from '../schedule/compile.ts';
import { isCompleted, isPaused } from '../schedule/completion.ts';
import { crontabDayNote } from '../schedule/day-note.ts';
import type { Schedule } from '../schedule/schedule.ts';

export function refOf(object: PeriodicTask): TaskRef {
  const { namespace = 'default', name, uid = '' } = object.metadata;
  return { namespace, name, uid };
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
export function runStatus(state: RunState, nextRunAt: number | null, pausedRunCount?: number): StatusUpdate {
  const update: StatusUpdate = {
    totalRunCount: state.totalRunCount,
    missedRunCount: state.missedRunCount,
    nextRunAt: nextRunAt === null ? null : iso(nextRunAt),
  };
  if (pausedRunCount !== undefined) update.pausedRunCount = pausedRunCount;
  if (state.lastTaskSlot !== null) update.lastRunAt = iso(state.lastTaskSlot);
  if (state.lastTaskId !== null) update.lastTaskId = state.lastTaskId;
  return update;
}

/** What a known, valid task is doing: the `state` label of celerybeat_schedules and the Ready reason. */
export type ScheduleState = 'scheduled' | 'disabled' | 'paused' | 'completed';

export function scheduleState(def: TaskDefinition, state: RunState, now: number = Date.now()): ScheduleState {
  if (!def.enabled) return 'disabled';
  if (isCompleted(def, state)) return 'completed';
  if (isPaused(def, now)) return 'paused';
  return 'scheduled';
}

/** Celery's reading of a crontab's two day fields, when a CronJob would read them differently; else null. */
export function dayNote(def: TaskDefinition): string | null {
  return def.schedule.kind === 'crontab' ? crontabDayNote(def.schedule) : null;
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

/** The Ready condition of a valid task; a Scheduled task with a day note carries it in the message. */
export function readyOf(
  def: TaskDefinition,
  state: RunState,
  schedule?: Schedule,
  now: number = Date.now(),
): ReadyCondition {
  switch (scheduleState(def, state, now)) {
    case 'disabled':
      return readyCondition('False', 'Disabled', 'enabled is false');
    case 'paused': {
      const until = def.pause?.until;
      const resumes = until === undefined ? 'until spec.pause is removed' : `until ${iso(until)}`;
      return readyCondition('False', 'Paused', `${def.pause?.reason} (paused ${resumes})`);
    }
    case 'completed':
      return state.totalRunCount > 0
        ? readyCondition('False', 'Completed', 'ran once; it will not run again')
        : readyCondition('False', 'Completed', 'its one slot passed without a run (missed); it will not run');
    case 'scheduled': {
      const note = dayNote(def);
      if (note === null) return readyCondition('True', 'Scheduled', '');
      // Only tasks with a note pay for compiling here (the beat's listener has no Schedule at hand).
      const slots = schedule ?? compileSchedule(def.schedule, def.timeZone);
      return readyCondition('True', 'Scheduled', noteWithNextRuns(note, slots, state.cursor));
    }
  }
}
