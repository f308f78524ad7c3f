// The missed-slot rule: after a gap (operator or broker down) at most one slot runs, the latest, and only
// while it is within startingDeadlineSeconds; every other slot in the gap is counted as missed.
import type { Schedule } from './schedule.ts';

export interface SlotPlan {
  /** The slot to publish now, or null. */
  run: number | null;
  /** Slots in (cursor, now] that will never run. */
  missed: number;
  /** The cursor after this plan: the latest slot accounted for. */
  newCursor: number;
  /** The first slot after now, or null when the schedule has no more. */
  next: number | null;
}

export function planSlots(
  schedule: Schedule,
  cursor: number,
  nowMs: number,
  startingDeadlineSeconds?: number,
): SlotPlan {
  const due = schedule.latest(cursor, nowMs);
  if (!due) return { run: null, missed: 0, newCursor: cursor, next: schedule.next(cursor) };
  // Asking from the latest slot keeps interval slots on their grid.
  const next = schedule.next(due.slot);
  if (startingDeadlineSeconds !== undefined && nowMs - due.slot > startingDeadlineSeconds * 1000) {
    return { run: null, missed: due.count, newCursor: due.slot, next };
  }
  return { run: due.slot, missed: due.count - 1, newCursor: due.slot, next };
}
