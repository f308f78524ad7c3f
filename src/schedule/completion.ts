// The one rule of when a task is done for good: a oneOff or clocked task after its first run.
import type { TaskDefinition } from '../api/types.ts';
import type { RunState } from '../contracts.ts';

export function isCompleted(def: TaskDefinition, state: RunState): boolean {
  return (def.oneOff || def.schedule.kind === 'clocked') && state.totalRunCount > 0;
}
