// The recent runs of one task and what the result backend said of each: the source of the status fields
// lastSuccessfulRunAt, lastFailedRunAt, lastResult and recentRuns. Pure: the tracker feeds it.
import type { LastResult, RecentRun, ResultState } from '../api/types.ts';
import type { RunResult, RunResults } from '../contracts.ts';
import { FINAL_STATES } from './result-meta.ts';

export const RECENT_RUNS = 10;

/** A run whose result never came is not asked for after this long (Celery's default result_expires). */
export const FOLLOW_FOR_MS = 24 * 3600_000;

export interface TrackedRun {
  slot: number;
  taskId: string;
  sentAt: number;
  state: ResultState;
  finishedAt: number | null;
  error: string | null;
}

export class RunHistory {
  /** Newest first. */
  runs: TrackedRun[] = [];
  lastSuccessfulRunAt: number | null = null;
  lastFailedRunAt: number | null = null;

  add(slot: number, taskId: string, sentAt: number): void {
    if (this.runs.some((r) => r.taskId === taskId)) return;
    this.runs.unshift({ slot, taskId, sentAt, state: 'PENDING', finishedAt: null, error: null });
    this.runs.sort((a, b) => b.slot - a.slot);
    this.runs.length = Math.min(this.runs.length, RECENT_RUNS);
  }

  /** The runs still worth asking the backend about. */
  following(now: number): TrackedRun[] {
    return this.runs.filter((r) => !FINAL_STATES.has(r.state) && now - r.sentAt < FOLLOW_FOR_MS);
  }

  /** Applies a result; the run it changed (for metrics and logs), or null when nothing changed. */
  apply(result: RunResult): TrackedRun | null {
    const run = this.runs.find((r) => r.taskId === result.taskId);
    if (!run || (run.state === result.state && run.error === result.error)) return null;
    run.state = result.state;
    run.finishedAt = result.finishedAt;
    run.error = result.error;
    if (result.state === 'SUCCESS')
      this.lastSuccessfulRunAt = Math.max(this.lastSuccessfulRunAt ?? 0, run.slot);
    if (result.state === 'FAILURE') this.lastFailedRunAt = Math.max(this.lastFailedRunAt ?? 0, run.slot);
    return run;
  }

  /** The status fields; lastResult is the newest run the backend has said anything about. */
  status(): RunResults {
    const update: RunResults = { recentRuns: this.runs.map(recentRun) };
    if (this.lastSuccessfulRunAt !== null) update.lastSuccessfulRunAt = iso(this.lastSuccessfulRunAt);
    if (this.lastFailedRunAt !== null) update.lastFailedRunAt = iso(this.lastFailedRunAt);
    const known = this.runs.find((r) => r.state !== 'PENDING');
    if (known) update.lastResult = lastResult(known);
    return update;
  }
}

export function durationSeconds(run: TrackedRun): number | undefined {
  return run.finishedAt === null ? undefined : Math.max(0, run.finishedAt - run.sentAt) / 1000;
}

function recentRun(run: TrackedRun): RecentRun {
  const entry: RecentRun = { slot: iso(run.slot), taskId: run.taskId, state: run.state };
  const duration = durationSeconds(run);
  if (duration !== undefined) entry.durationSeconds = Math.round(duration * 1000) / 1000;
  return entry;
}

function lastResult(run: TrackedRun): LastResult {
  const result: LastResult = { taskId: run.taskId, state: run.state };
  if (run.finishedAt !== null) result.finishedAt = iso(run.finishedAt);
  if (run.error !== null) result.error = run.error;
  return result;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
