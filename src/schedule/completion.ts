// The one rule of when a task is done for good: a oneOff or clocked task after its first run, and a clocked
// task whose one slot has been accounted for without a run (missed past its startingDeadlineSeconds).
import type { TaskDefinition } from '../api/types.ts';
import type { RunState } from '../contracts.ts';

export function isCompleted(def: TaskDefinition, state: RunState): boolean {
  if ((def.oneOff || def.schedule.kind === 'clocked') && state.totalRunCount > 0) return true;
  return def.schedule.kind === 'clocked' && state.cursor >= def.schedule.at;
}
