// Celery's Redis result backend: one string per task at `celery-task-meta-<task id>`, JSON with `status`,
// `result`, `traceback`, `date_done`, `task_id` (written by the worker; absent until the task stores a state,
// so "no key" is Celery's PENDING). Only the state, the finish time and the traceback's last line are read:
// `result` may hold secrets and is never looked at.
import type { ResultState } from '../api/types.ts';
import type { RunResult } from '../contracts.ts';

export const RESULT_KEY_PREFIX = 'celery-task-meta-';

const STATES: ReadonlySet<string> = new Set([
  'PENDING',
  'RECEIVED',
  'STARTED',
  'RETRY',
  'SUCCESS',
  'FAILURE',
  'REVOKED',
]);

/** The states after which a run never changes again. */
export const FINAL_STATES: ReadonlySet<ResultState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

const MAX_ERROR_LENGTH = 300;

/** The stored result, or null when the value is not one (an unknown state, not JSON). */
export function parseResultMeta(taskId: string, raw: string): RunResult | null {
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof meta !== 'object' || meta === null) return null;
  const { status, date_done: dateDone, traceback } = meta as Record<string, unknown>;
  if (typeof status !== 'string' || !STATES.has(status)) return null;
  const state = status as ResultState;
  return {
    taskId,
    state,
    finishedAt: FINAL_STATES.has(state) && typeof dateDone === 'string' ? celeryTime(dateDone) : null,
    error: typeof traceback === 'string' ? lastLine(traceback) : null,
  };
}

/** Celery writes date_done as isoformat() of UTC, with or without the offset. */
function celeryTime(text: string): number | null {
  const withZone = /(Z|[+-]\d\d:\d\d)$/.test(text) ? text : `${text}Z`;
  const at = Date.parse(withZone);
  return Number.isNaN(at) ? null : at;
}

/** "RuntimeError: disk full": the line a traceback ends with, cut to a status-friendly length. */
function lastLine(traceback: string): string | null {
  const line = traceback
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  if (line === undefined) return null;
  return line.length > MAX_ERROR_LENGTH ? `${line.slice(0, MAX_ERROR_LENGTH - 1)}…` : line;
}
