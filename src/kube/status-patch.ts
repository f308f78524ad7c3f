// Pure rules of the status write-back: merging reports, and turning a report into a merge-patch body.
import { isDeepStrictEqual } from 'node:util';
import type { BackfillStatus, Condition, LastResult, PeriodicTaskStatus, RecentRun } from '../api/types.ts';
import type { StatusUpdate } from '../contracts.ts';

const SCALAR_FIELDS = [
  'lastRunAt',
  'totalRunCount',
  'lastTaskId',
  'nextRunAt',
  'missedRunCount',
  'observedGeneration',
  'schedule',
  'lastSuccessfulRunAt',
  'lastFailedRunAt',
  'lastRunNow',
  'pausedRunCount',
] as const;

/** A lastResult in a merge patch: a member that no longer holds is sent as null, so nothing old survives. */
type LastResultPatch = { [K in keyof LastResult]-?: LastResult[K] | null };

/** The merge-patch body of the status: `nextRunAt: null` removes the field. */
export type StatusPatch = Omit<PeriodicTaskStatus, 'nextRunAt' | 'lastResult' | 'backfill'> & {
  nextRunAt?: string | null;
  lastResult?: LastResultPatch;
  backfill?: Omit<BackfillStatus, 'message'> & { message: string | null };
  recentRuns?: RecentRun[];
};

/** A later report overrides an earlier one field by field (a null, "no next run", overrides too). */
export function mergeUpdates(earlier: StatusUpdate, later: StatusUpdate): StatusUpdate {
  const merged: StatusUpdate = { ...earlier };
  for (const [field, value] of Object.entries(later)) {
    if (value !== undefined) Object.assign(merged, { [field]: value });
  }
  return merged;
}

/**
 * The `status` object to send for `update` given the `current` status, or undefined when it would change
 * nothing. Merge patch replaces lists whole, so `conditions` carries every condition: the others as they
 * are, Ready with a lastTransitionTime that moves only when its status flips.
 */
export function statusPatch(
  update: StatusUpdate,
  current: PeriodicTaskStatus | undefined,
  now: Date,
): StatusPatch | undefined {
  const patch: StatusPatch = {};
  let changed = false;
  for (const field of SCALAR_FIELDS) {
    const value = update[field];
    if (value === undefined) continue;
    const present = current?.[field];
    // A merge patch keeps a field it does not mention: a value that no longer holds must be sent as null.
    if (value === null && present === undefined) continue;
    Object.assign(patch, { [field]: value });
    if (present !== value) changed = true;
  }
  if (update.lastResult && !isDeepStrictEqual(update.lastResult, current?.lastResult)) {
    const { taskId, state, finishedAt = null, error = null } = update.lastResult;
    patch.lastResult = { taskId, state, finishedAt, error };
    changed = true;
  }
  if (update.backfill && !isDeepStrictEqual(update.backfill, current?.backfill)) {
    patch.backfill = { ...update.backfill, message: update.backfill.message ?? null };
    changed = true;
  }
  // Lists are replaced whole by a merge patch.
  if (update.recentRuns && !isDeepStrictEqual(update.recentRuns, current?.recentRuns ?? [])) {
    patch.recentRuns = update.recentRuns;
    changed = true;
  }
  if (update.ready) {
    const conditions = current?.conditions ?? [];
    const previous = conditions.find((condition) => condition.type === 'Ready');
    const observedGeneration = update.observedGeneration ?? current?.observedGeneration;
    const ready: Condition = {
      type: 'Ready',
      status: update.ready.status,
      reason: update.ready.reason,
      message: update.ready.message,
      lastTransitionTime:
        previous && previous.status === update.ready.status ? previous.lastTransitionTime : isoSeconds(now),
      ...(observedGeneration === undefined ? {} : { observedGeneration }),
    };
    if (
      !previous ||
      previous.status !== ready.status ||
      previous.reason !== ready.reason ||
      previous.message !== ready.message ||
      previous.observedGeneration !== ready.observedGeneration
    ) {
      changed = true;
    }
    patch.conditions = [...conditions.filter((condition) => condition.type !== 'Ready'), ready];
  }
  return changed ? patch : undefined;
}

/** metav1.Time has second precision; the API server would truncate anyway, and a stable value compares equal. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Whether `update` changes what a user acts on (the Ready condition, observedGeneration, the schedule), as
 * opposed to run progress (lastRunAt, totalRunCount, nextRunAt, results): state changes are written first
 * and without the per-task interval that paces progress.
 */
export function isStateChange(update: StatusUpdate, current: PeriodicTaskStatus | undefined): boolean {
  if (update.observedGeneration !== undefined && update.observedGeneration !== current?.observedGeneration)
    return true;
  if (update.schedule !== undefined && update.schedule !== current?.schedule) return true;
  if (!update.ready) return false;
  const ready = current?.conditions?.find((condition) => condition.type === 'Ready');
  return (
    !ready ||
    ready.status !== update.ready.status ||
    ready.reason !== update.ready.reason ||
    ready.message !== update.ready.message
  );
}
