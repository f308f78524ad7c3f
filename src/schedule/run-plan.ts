// What comes next for one task: the last slot accounted for, runs due but not yet sent, and how many runs it
// may still make. `next` and `timeline` read it from files (a task first seen at an instant) and the plugin
// from a live task's status.
import type { TaskDefinition } from '../api/types.ts';
import { compileTaskSchedule } from './compile.ts';
import { isPaused } from './completion.ts';
import { initialCursor } from './cursor.ts';
import type { Schedule } from './schedule.ts';

export interface RunPlan {
  def: TaskDefinition;
  schedule: Schedule;
  /** The last slot accounted for: runs come from the slots after it. */
  cursor: number;
  /** Run times (epoch ms) of slots up to the cursor that are due but not yet sent (jitter). */
  pending: readonly number[];
  /** Runs it may still make, pending ones included: 0 when none, 1 for a one-off task. */
  limit: number;
}

/** Runs a task may still make after `runs`: one for a one-off task, up to spec.maxRuns, else no limit. */
export function runsLeft(def: TaskDefinition, runs: number): number {
  const oneOff = def.oneOff ? 1 : Number.POSITIVE_INFINITY;
  const max = def.maxRuns === undefined ? Number.POSITIVE_INFINITY : Math.max(0, def.maxRuns - runs);
  return Math.min(oneOff, max);
}

/**
 * The plan of a task first seen at `from`, as the operator would start it: no runs when disabled or paused
 * until resumed; a pause with an end skips the slots up to it.
 */
export function planFromFirstSight(def: TaskDefinition, from: number): RunPlan {
  const schedule = compileTaskSchedule(def);
  let cursor = initialCursor(def, from);
  let limit = runsLeft(def, def.carriedOver?.totalRunCount ?? 0);
  if (!def.enabled) limit = 0;
  else if (def.pause && isPaused(def, from)) {
    if (def.pause.until === undefined) limit = 0;
    else cursor = Math.max(cursor, schedule.latest(cursor, def.pause.until)?.slot ?? cursor);
  }
  return { def, schedule, cursor, pending: [], limit };
}
