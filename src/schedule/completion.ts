// The rules of when a task does not run: paused for now, or done for good: a oneOff or clocked task after its first run, and a clocked
// task whose one slot has been accounted for without a run (missed past its startingDeadlineSeconds).
import type { TaskDefinition } from '../api/types.ts';
import type { RunState } from '../contracts.ts';

export function isCompleted(def: TaskDefinition, state: RunState): boolean {
  if ((def.oneOff || def.schedule.kind === 'clocked') && state.totalRunCount > 0) return true;
  return def.schedule.kind === 'clocked' && state.cursor >= def.schedule.at;
}

/** spec.pause holds at `now`: no runs until it is lifted or its `until` comes. */
export function isPaused(def: TaskDefinition, now: number): boolean {
  return def.pause !== undefined && (def.pause.until === undefined || def.pause.until > now);
}
