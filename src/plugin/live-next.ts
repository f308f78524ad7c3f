// `kubectl celerybeat next`: the next run times of a task on the API server, computed here from its spec with
// the operator's own validator and schedule engine (jitter included), continuing from what its status says
// has run. The same rules as `celerybeat-operator next` for files, from a cursor the status gives.
import type { PeriodicTask } from '../api/types.ts';
import { taskKeyOf } from '../api/types.ts';
import type { RunState } from '../contracts.ts';
import { compileTaskSchedule } from '../schedule/compile.ts';
import { isCompleted, isPaused } from '../schedule/completion.ts';
import { initialCursor } from '../schedule/cursor.ts';
import { isPausedByFailures } from '../schedule/failure-pause.ts';
import { PERIOD_MICROSECONDS } from '../schedule/interval-schedule.ts';
import { runTimeOf } from '../schedule/jitter.ts';
import { type RunPlan, runsLeft } from '../schedule/run-plan.ts';
import { validatePeriodicTask } from '../validation/validate.ts';

export type LiveNext =
  | { ok: true; key: string; times: number[]; note?: string }
  | { ok: false; key: string; message: string };

/**
 * Where a task read from the API server stands for what comes next: the last slot accounted for, runs already
 * due whose jittered time is still ahead, and how many runs it may still make (0 when none: disabled, paused
 * until resumed, completed; 1 for a one-off task).
 */
export type LivePlan =
  | ({ ok: true; key: string; note?: string } & RunPlan)
  | { ok: false; key: string; message: string };

const instant = (iso: string | undefined): number | undefined => {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The plan of a task as read from the API server, at `now` (epoch ms). */
export function livePlan(task: PeriodicTask, now: number, defaultTimeZone: string): LivePlan {
  const key = taskKeyOf(task);
  const verdict = validatePeriodicTask(task, { defaultTimeZone });
  if (!verdict.ok) {
    const problems = verdict.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
    return { ok: false, key, message: `invalid spec, no runs: ${problems.join('; ')}` };
  }
  const def = verdict.definition;
  const schedule = compileTaskSchedule(def);
  const none = (cursor: number, note: string): LivePlan => ({
    ok: true,
    key,
    def,
    schedule,
    cursor,
    pending: [],
    limit: 0,
    note,
  });
  if (!def.enabled) return none(now, 'disabled (spec.enabled: false): no runs');

  const status = task.status ?? {};
  const lastRunAt = instant(status.lastRunAt);
  const current = status.observedGeneration === task.metadata.generation;
  const nextRunAt = current ? instant(status.nextRunAt) : undefined;
  let cursor = lastRunAt ?? initialCursor(def, now);
  // A new interval task's grid starts where the operator first saw it: its first slot, one interval on.
  // With jitter the status holds a run time, not the slot, and during a pause the pause's end: neither
  // gives the grid back.
  const pauseEnd = def.pause ? (def.pause.until ?? Number.POSITIVE_INFINITY) : Number.NEGATIVE_INFINITY;
  const anchored = nextRunAt !== undefined && nextRunAt > pauseEnd && !def.jitterMs;
  if (lastRunAt === undefined && anchored && def.schedule.kind === 'interval') {
    cursor = nextRunAt - (def.schedule.every * PERIOD_MICROSECONDS[def.schedule.period]) / 1000;
  }
  const state: RunState = {
    cursor,
    totalRunCount: status.totalRunCount ?? 0,
    lastTaskId: status.lastTaskId ?? null,
    lastTaskSlot: lastRunAt ?? null,
    missedRunCount: status.missedRunCount ?? 0,
    pausedRunCount: status.pausedRunCount ?? 0,
  };
  if (isCompleted(def, state, schedule)) return none(cursor, 'completed: no more runs');
  // The count in the status is the run state's; a resume the operator has not applied yet lifts the pause.
  const failures = status.consecutiveFailures ?? 0;
  if (isPausedByFailures(def, { ...state, failures: { count: failures, slot: cursor, taskId: '' } }))
    return none(
      cursor,
      `paused after ${failures} failed runs in a row (spec.pauseAfterFailures): no runs until resumed`,
    );
  let note: string | undefined;
  // Slots up to `after` are decided already (run, missed, or about to be); a clocked task first seen after
  // its time still runs once, as `next` for files shows it.
  let after = lastRunAt === undefined && def.schedule.kind === 'clocked' ? cursor : now;
  let pausedUntil: number | undefined;
  if (def.pause && isPaused(def, now)) {
    if (def.pause.until === undefined)
      return none(cursor, `paused until resumed (${def.pause.reason}): no runs`);
    // Slots up to the end of the pause are skipped by it (the beat's rule): runs start after `until`.
    pausedUntil = def.pause.until;
    note = `paused until ${new Date(pausedUntil).toISOString()} (${def.pause.reason})`;
    after = Math.max(after, pausedUntil);
  }
  const pending: number[] = [];
  const past = after > cursor ? schedule.latest(cursor, after) : null;
  if (past) {
    cursor = past.slot;
    // A slot already due whose jittered run time is still ahead has not run yet.
    const runAt = runTimeOf(def, key, past.slot);
    if (runAt > now && pausedUntil === undefined) pending.push(runAt);
  }
  const limit = runsLeft(def, state.totalRunCount);
  return note === undefined
    ? { ok: true, key, def, schedule, cursor, pending, limit }
    : { ok: true, key, def, schedule, cursor, pending, limit, note };
}

/** The next `count` run times after `now` (epoch ms) of a task as read from the API server. */
export function liveNextRuns(
  task: PeriodicTask,
  now: number,
  count: number,
  defaultTimeZone: string,
): LiveNext {
  const plan = livePlan(task, now, defaultTimeZone);
  if (!plan.ok) return plan;
  const { key, def, schedule } = plan;
  const limit = Math.min(plan.limit, count);
  const times = plan.pending.slice(0, limit);
  let cursor = plan.cursor;
  while (times.length < limit) {
    const slot = schedule.next(cursor);
    if (slot === null) break;
    times.push(runTimeOf(def, key, slot));
    cursor = slot;
  }
  const note = plan.note ?? (times.length === 0 ? 'no more runs' : undefined);
  return note === undefined ? { ok: true, key, times } : { ok: true, key, times, note };
}
