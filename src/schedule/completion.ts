// The rules of when a task does not run: paused for now, or done for good: a oneOff or clocked task after its
// first run, a clocked task whose one slot has been accounted for without a run (missed past its
// startingDeadlineSeconds), a task that has made its maxRuns runs, one with no slot left before its endTime, and
// one with no slot left at all (several clocked times all past, exclusions that leave none).
import type { TaskDefinition } from '../api/types.ts';
import type { RunState } from '../contracts.ts';
import { compileTaskSchedule } from './compile.ts';
import type { Schedule } from './schedule.ts';

/** Why a task will not run again, or null while it may. */
export type Completion = 'ran-once' | 'missed-once' | 'max-runs' | 'end-time' | 'no-slot';

/**
 * `schedule` is the task's (compileTaskSchedule), when the caller has it: a task with an endTime is completed
 * once its schedule has no slot after the cursor, which only the schedule knows.
 */
export function completionOf(def: TaskDefinition, state: RunState, schedule?: Schedule): Completion | null {
  if ((def.oneOff || def.schedule.kind === 'clocked') && state.totalRunCount > 0) return 'ran-once';
  if (def.maxRuns !== undefined && state.totalRunCount >= def.maxRuns) return 'max-runs';
  if (def.schedule.kind === 'clocked' && state.cursor >= def.schedule.at) return 'missed-once';
  if (def.endTime !== undefined && state.cursor >= def.endTime) return 'end-time';
  // Only these can run out of slots: a set of clocked times, exclusions that leave none, an end.
  if (def.endTime === undefined && def.schedule.kind !== 'set' && def.exclude === undefined) return null;
  const next = (schedule ?? compileTaskSchedule(def)).next(state.cursor);
  if (def.endTime !== undefined && (next === null || next > def.endTime)) return 'end-time';
  return next === null ? 'no-slot' : null;
}

export function isCompleted(def: TaskDefinition, state: RunState, schedule?: Schedule): boolean {
  return completionOf(def, state, schedule) !== null;
}

/** spec.pause holds at `now`: no runs until it is lifted or its `until` comes. */
export function isPaused(def: TaskDefinition, now: number): boolean {
  return def.pause !== undefined && (def.pause.until === undefined || def.pause.until > now);
}
