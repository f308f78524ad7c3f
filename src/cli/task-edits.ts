// What run-now, backfill, pause and resume change on a PeriodicTask, as a JSON merge patch (RFC 7386): the
// kubectl plugin sends it to the API server, standalone mode applies it to the task's YAML document. The
// flag values are checked here with the project's validator, so both give the verdict the operator would.
import { BACKFILL_ANNOTATION, RESUMED_AT_ANNOTATION, RUN_NOW_ANNOTATION } from '../api/annotations.ts';
import { API_VERSION, KIND, type PauseSpec } from '../api/types.ts';
import { validatePeriodicTask } from '../validation/validate.ts';
import { UsageError } from './flag-check.ts';

/** A merge patch of a PeriodicTask: `null` removes a field. */
export interface TaskPatch {
  metadata?: { annotations: Record<string, string> };
  spec?: { pause: { reason: string; until: string | null } | null };
}

/** A run-now token: any text; the current time (ISO-8601 UTC with milliseconds) is unique enough by hand. */
export function runNowToken(token: string | undefined, now: Date): string {
  if (token === undefined) return now.toISOString();
  if (token.trim() === '') throw new UsageError('--token must not be empty');
  return token;
}

export function runNowPatch(token: string): TaskPatch {
  return { metadata: { annotations: { [RUN_NOW_ANNOTATION]: token } } };
}

/**
 * The errors the validator finds in spec fields the flags set, on an otherwise valid task: the schema's
 * verdicts (pattern, length) and the operator's (a date that does not exist, such as 2026-02-30).
 */
function fieldErrors(spec: Record<string, unknown>): Array<{ field: string; message: string }> {
  const verdict = validatePeriodicTask(
    {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: 'flag-check' },
      spec: { task: 'flag-check', interval: { every: 1, period: 'hours' }, ...spec },
    },
    { defaultTimeZone: 'UTC' },
  );
  return verdict.ok ? [] : verdict.errors;
}

/** One line naming the flag and its value; the validator's "Invalid value: <value>: " is not repeated. */
function flagError(flag: string, value: string, message: string): UsageError {
  const prefix = `Invalid value: ${JSON.stringify(value)}: `;
  const reason = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  return new UsageError(`${flag} ${JSON.stringify(value)}: ${reason}`);
}

/** Epoch ms of an RFC 3339 instant given to `flag`, checked as the operator checks spec times. */
export function instantFlag(flag: string, text: string): number {
  const [error] = fieldErrors({ startTime: text });
  if (error) throw flagError(flag, text, error.message);
  return Date.parse(text);
}

/** `<from>/<to>`, the value of the backfill annotation; the range must not be empty. */
export function backfillRange(from: string | undefined, to: string | undefined): string {
  if (from === undefined) throw new UsageError('--from is required: the start of the range (RFC 3339)');
  if (to === undefined) throw new UsageError('--to is required: the end of the range (RFC 3339)');
  const fromMs = instantFlag('--from', from);
  const toMs = instantFlag('--to', to);
  if (!(fromMs < toMs)) throw new UsageError(`--from ${from} must be before --to ${to}`);
  return `${from}/${to}`;
}

export function backfillPatch(range: string): TaskPatch {
  return { metadata: { annotations: { [BACKFILL_ANNOTATION]: range } } };
}

/** spec.pause as the flags give it, checked against the CRD's and the validator's rules. */
export function pauseSpec(reason: string | undefined, until: string | undefined): PauseSpec {
  if (reason === undefined || reason.trim() === '')
    throw new UsageError('--reason is required: why the task is paused (shown in its Ready condition)');
  const pause: PauseSpec = until === undefined ? { reason } : { reason, until };
  const [error] = fieldErrors({ pause });
  if (error?.field === 'spec.pause.until') throw flagError('--until', until ?? '', error.message);
  if (error) throw new UsageError(`--reason: ${error.message}`);
  return pause;
}

/** Sets spec.pause to exactly this pause: an `until` of an earlier pause does not survive the merge. */
export function pausePatch(pause: PauseSpec): TaskPatch {
  return { spec: { pause: { reason: pause.reason, until: pause.until ?? null } } };
}

/**
 * Removes spec.pause and sets the resumed-at annotation to `now`: a task paused after failures (its run state,
 * which only the operator writes) runs again, its count of failures starting over.
 */
export function resumePatch(now: Date): TaskPatch {
  return { metadata: { annotations: { [RESUMED_AT_ANNOTATION]: now.toISOString() } }, spec: { pause: null } };
}
