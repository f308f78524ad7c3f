// The run state a hand-written celerybeat-redis key carries, in the forms users write it: `last_run_at` as a
// {"__type__": "datetime", …} object (celerybeat-redis's own encoding), an ISO-8601 string (as its README
// shows it) or absent; `total_run_count` as a count. Naive times are UTC, as Celery reads them.
import { decodeDatetime } from './datetime.ts';

/** The members of a value that are run state: moved into the run-state tail when a key is adopted. */
export const RUN_STATE_MEMBERS: ReadonlySet<string> = new Set([
  'last_run_at',
  'total_run_count',
  'last_task_id',
  'last_task_slot',
  'missed_run_count',
  'paused_run_count',
]);

export interface WrittenRunState {
  lastRunAt: number | null;
  totalRunCount: number;
}

/** A run-state field the user wrote that cannot be read: `field` names the member. */
export class RunStateFieldError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms of an ISO-8601 time; a time without an offset is UTC. Null when it is not one. */
export function parseIsoTime(text: string): number | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = m;
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(fields[0], fields[1] - 1, fields[2]);
  date.setUTCHours(fields[3], fields[4], fields[5], 0);
  if (
    date.getUTCMonth() !== fields[1] - 1 ||
    date.getUTCDate() !== fields[2] ||
    date.getUTCHours() !== fields[3] ||
    date.getUTCMinutes() !== fields[4] ||
    date.getUTCSeconds() !== fields[5]
  ) {
    return null;
  }
  let offsetMin = 0;
  if (zone !== 'Z') {
    const digits = zone.replace(':', '');
    offsetMin = (digits[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return date.getTime() + Number(`0.${frac || '0'}`) * 1000 - offsetMin * 60_000;
}

/** An instant written as a datetime object or an ISO string; throws naming `field`. */
export function readWrittenTime(value: unknown, field: string): number {
  if (typeof value === 'string') {
    const at = parseIsoTime(value);
    if (at === null) {
      throw new RunStateFieldError(field, `${JSON.stringify(value)} is not an ISO-8601 time`);
    }
    return at;
  }
  try {
    return decodeDatetime(value);
  } catch (error) {
    throw new RunStateFieldError(field, (error as Error).message);
  }
}

export function readWrittenRunState(value: Record<string, unknown>): WrittenRunState {
  const lastRunAt = value.last_run_at == null ? null : readWrittenTime(value.last_run_at, 'last_run_at');
  const count = value.total_run_count ?? 0;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new RunStateFieldError(
      'total_run_count',
      `must be a non-negative integer, got ${JSON.stringify(count)}`,
    );
  }
  return { lastRunAt, totalRunCount: count };
}
