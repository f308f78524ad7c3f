// Pure rules of the status write-back: merging reports, and turning a report into a merge-patch body.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, PeriodicTaskStatus } from '../api/types.ts';
import type { StatusUpdate } from '../contracts.ts';

/**
 * The merge-patch body of the status. A merge patch keeps what it does not mention, so a value that no longer
 * holds is sent as null: a field (`nextRunAt: null` removes it), or a member of an object field.
 */
export type StatusPatch = {
  [K in keyof PeriodicTaskStatus]?: NonNullable<PeriodicTaskStatus[K]> extends readonly unknown[]
    ? PeriodicTaskStatus[K]
    : NonNullable<PeriodicTaskStatus[K]> extends object
      ? { [M in keyof NonNullable<PeriodicTaskStatus[K]>]?: NonNullable<PeriodicTaskStatus[K]>[M] | null }
      : PeriodicTaskStatus[K] | null;
};

/** A later report overrides an earlier one field by field (a null, "no next run", overrides too). */
export function mergeUpdates(earlier: StatusUpdate, later: StatusUpdate): StatusUpdate {
  const merged: StatusUpdate = { ...earlier };
  for (const [field, value] of Object.entries(later)) {
    if (value !== undefined) Object.assign(merged, { [field]: value });
  }
  return merged;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The `status` object to send for `update` given the `current` status, or undefined when it would change
 * nothing. Every field is treated by its shape, so a new status field needs nothing here: a scalar is sent
 * with any change (and makes one when it differs); a list (replaced whole by a merge patch) or an object only
 * when it differs, an object with its members that no longer hold as null. `conditions` carries every
 * condition: the others as they are, Ready with a lastTransitionTime that moves only when its status flips.
 */
export function statusPatch(
  update: StatusUpdate,
  current: PeriodicTaskStatus | undefined,
  now: Date,
): StatusPatch | undefined {
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const [field, value] of Object.entries(update)) {
    if (value === undefined || field === 'ready') continue;
    const present = (current as Record<string, unknown> | undefined)?.[field];
    if (Array.isArray(value)) {
      // An absent list and an empty one read the same.
      if (isDeepStrictEqual(value, present ?? [])) continue;
      patch[field] = value;
      changed = true;
    } else if (isPlainObject(value)) {
      if (isDeepStrictEqual(value, present)) continue;
      const gone = isPlainObject(present) ? Object.keys(present).filter((member) => !(member in value)) : [];
      patch[field] = Object.assign(Object.fromEntries(gone.map((member) => [member, null])), value);
      changed = true;
    } else {
      if (value === null && present === undefined) continue;
      patch[field] = value;
      if (present !== value) changed = true;
    }
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
  return changed ? (patch as StatusPatch) : undefined;
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
