// What the controller tells the outside about a task: status updates (through the StatusSink) and events.
import type { ConditionStatus, PeriodicTask, ReadyReason } from '../api/types.ts';
import type { BeatProblem } from '../beat/beat.ts';
import type { ReadyCondition, RunState, StatusUpdate, TaskRef } from '../contracts.ts';

export function refOf(object: PeriodicTask): TaskRef {
  const { namespace = 'default', name, uid = '' } = object.metadata;
  return { namespace, name, uid };
}

/**
 * `KeyConflict`: the task's Redis key exists but belongs to something else, so it is left alone.
 * The beat's problems (`BeatProblem`): a message refused by the safety check, a publish the broker did not
 * take (retried), a slot that could not be planned.
 */
export type TaskReadyReason = ReadyReason | 'KeyConflict' | BeatProblem;

export function readyCondition(
  status: ConditionStatus,
  reason: TaskReadyReason,
  message: string,
): ReadyCondition {
  return { status, reason, message };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The run-state part of the status; lastRunAt is the slot of the last run, not the cursor. */
export function runStatus(state: RunState, nextRunAt: number | null): StatusUpdate {
  const update: StatusUpdate = {
    totalRunCount: state.totalRunCount,
    missedRunCount: state.missedRunCount,
  };
  if (state.lastTaskSlot !== null) update.lastRunAt = iso(state.lastTaskSlot);
  if (state.lastTaskId !== null) update.lastTaskId = state.lastTaskId;
  if (nextRunAt !== null) update.nextRunAt = iso(nextRunAt);
  return update;
}
