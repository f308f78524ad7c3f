// `kubectl celerybeat next`: the next run times of a task on the API server, computed here from its spec with
// the operator's own validator and schedule engine (jitter included), continuing from what its status says
// has run. The same rules as `celerybeat-operator next` for files, from a cursor the status gives.
import type { PeriodicTask } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type { RunState } from '../contracts.ts';
import { compileSchedule } from '../schedule/compile.ts';
import { isCompleted, isPaused } from '../schedule/completion.ts';
import { initialCursor } from '../schedule/cursor.ts';
import { PERIOD_MICROSECONDS } from '../schedule/interval-schedule.ts';
import { runTimeOf } from '../schedule/jitter.ts';
import { validatePeriodicTask } from '../validation/validate.ts';

export type LiveNext =
  | { ok: true; key: string; times: number[]; note?: string }
  | { ok: false; key: string; message: string };

const instant = (iso: string | undefined): number | undefined => {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The next `count` run times after `now` (epoch ms) of a task as read from the API server. */
export function liveNextRuns(
  task: PeriodicTask,
  now: number,
  count: number,
  defaultTimeZone: string,
): LiveNext {
  const namespace = task.metadata.namespace || 'default';
  const key = taskKey(namespace, task.metadata.name);
  const verdict = validatePeriodicTask(task, { defaultTimeZone });
  if (!verdict.ok) {
    const problems = verdict.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
    return { ok: false, key, message: `invalid spec, no runs: ${problems.join('; ')}` };
  }
  const def = verdict.definition;
  if (!def.enabled) return { ok: true, key, times: [], note: 'disabled (spec.enabled: false): no runs' };

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
  };
  if (isCompleted(def, state)) return { ok: true, key, times: [], note: 'completed: no more runs' };
  let note: string | undefined;
  // Slots up to `after` are decided already (run, missed, or about to be); a clocked task first seen after
  // its time still runs once, as `next` for files shows it.
  let after = lastRunAt === undefined && def.schedule.kind === 'clocked' ? cursor : now;
  let pausedUntil: number | undefined;
  if (def.pause && isPaused(def, now)) {
    if (def.pause.until === undefined)
      return { ok: true, key, times: [], note: `paused until resumed (${def.pause.reason}): no runs` };
    // Slots up to the end of the pause are skipped by it (the beat's rule): runs start after `until`.
    pausedUntil = def.pause.until;
    note = `paused until ${new Date(pausedUntil).toISOString()} (${def.pause.reason})`;
    after = Math.max(after, pausedUntil);
  }

  const schedule = compileSchedule(def.schedule, def.timeZone);
  const times: number[] = [];
  const past = after > cursor ? schedule.latest(cursor, after) : null;
  if (past) {
    cursor = past.slot;
    // A slot already due whose jittered run time is still ahead has not run yet.
    const runAt = runTimeOf(def, key, past.slot);
    if (runAt > now && pausedUntil === undefined) times.push(runAt);
  }
  const limit = def.oneOff ? 1 : count;
  while (times.length < limit) {
    const slot = schedule.next(cursor);
    if (slot === null) break;
    times.push(runTimeOf(def, key, slot));
    cursor = slot;
  }
  if (times.length === 0 && note === undefined) note = 'no more runs';
  return note === undefined ? { ok: true, key, times } : { ok: true, key, times, note };
}
