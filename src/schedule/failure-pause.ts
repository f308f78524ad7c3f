// spec.pauseAfterFailures: the count of FAILURE results in a row, kept in the run state (so it holds across a
// leader change), and the pause it makes. The count is in slot order: a result of a run older than the newest
// one counted, a SUCCESS included, is not counted (it may come again after a leader change, or late); a SUCCESS
// starts the count over at zero, keeping its slot as the mark.
// Once the count reaches the limit the pause holds (later results do not lift it) until a resume: the
// `celerybeat.io/resumed-at` annotation, applied once per later value, which also forgives failures of runs
// before it.
import type { TaskDefinition } from '../api/types.ts';
import type { ConsecutiveFailures, FinishedRun, RunState } from '../contracts.ts';

/** The definition asks for a resume the run state has not applied yet. */
export function resumeOwed(def: TaskDefinition, state: RunState): boolean {
  return (
    def.pauseAfterFailures !== undefined &&
    def.resumedAt !== undefined &&
    def.resumedAt > (state.resumedAt ?? Number.NEGATIVE_INFINITY)
  );
}

/** The count has reached spec.pauseAfterFailures (whatever resume is owed). */
function limitReached(def: TaskDefinition, state: RunState): boolean {
  return def.pauseAfterFailures !== undefined && (state.failures?.count ?? 0) >= def.pauseAfterFailures;
}

/** Paused by its failures: the limit is reached and no resume is owed. */
export function isPausedByFailures(def: TaskDefinition, state: RunState): boolean {
  return limitReached(def, state) && !resumeOwed(def, state);
}

/** What applying a resume and results did: the run state after them, and when a pause ended (a resume). */
export interface FailureUpdate {
  state: RunState;
  /** A pause by failures was lifted by the resume; its slots up to here are paused ones. */
  liftedAt?: number;
}

/**
 * The run state after the owed resume (if any), then the results, in slot order. `now` bounds the end of a
 * lifted pause (a resume time in the future ends it now).
 */
export function applyFailureResults(
  def: TaskDefinition,
  state: RunState,
  results: readonly FinishedRun[],
  now: number,
): FailureUpdate {
  if (def.pauseAfterFailures === undefined) return { state };
  let next = state;
  let liftedAt: number | undefined;
  if (resumeOwed(def, state)) {
    const resumedAt = def.resumedAt as number;
    if (limitReached(def, state)) liftedAt = Math.min(resumedAt, now);
    next = withFailures({ ...state, resumedAt }, undefined);
  }
  for (const run of [...results].sort((a, b) => a.slot - b.slot)) {
    if (run.state !== 'SUCCESS' && run.state !== 'FAILURE') continue;
    if (run.slot < (next.resumedAt ?? Number.NEGATIVE_INFINITY)) continue;
    if (run.slot <= (next.failures?.slot ?? Number.NEGATIVE_INFINITY)) continue;
    // The pause holds until a resume: a run that was still going when it began does not lift it.
    if (limitReached(def, next)) break;
    if (run.state === 'SUCCESS') {
      next = withFailures(next, { count: 0, slot: run.slot, taskId: run.taskId });
      continue;
    }
    const exception = exceptionType(run.error);
    next = withFailures(next, {
      count: (next.failures?.count ?? 0) + 1,
      slot: run.slot,
      taskId: run.taskId,
      ...(exception === undefined ? {} : { exception }),
    });
  }
  return liftedAt === undefined ? { state: next } : { state: next, liftedAt };
}

function withFailures(state: RunState, failures: ConsecutiveFailures | undefined): RunState {
  const { failures: _gone, ...rest } = state;
  return failures === undefined ? rest : { ...rest, failures };
}

/** The failure fields of two run states are the same (nothing to record for them). */
export function sameFailures(a: RunState, b: RunState): boolean {
  const fa = a.failures;
  const fb = b.failures;
  const same =
    fa === fb ||
    (fa !== undefined &&
      fb !== undefined &&
      fa.count === fb.count &&
      fa.slot === fb.slot &&
      fa.taskId === fb.taskId &&
      fa.exception === fb.exception);
  return same && a.resumedAt === b.resumedAt;
}

/** "RuntimeError" of "RuntimeError: disk full", "celery.exceptions.Reject" of a dotted name; else undefined. */
export function exceptionType(errorLine: string | null): string | undefined {
  if (errorLine === null) return undefined;
  const match = /^([A-Za-z_][\w.]*)(?::|$)/.exec(errorLine);
  return match?.[1];
}
