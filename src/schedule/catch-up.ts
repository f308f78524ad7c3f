// The missed-slot rule: what the slots found due after a gap (operator or broker down) become, by the task's
// catchUp policy. Latest (the default): at most one runs, the latest, and only while it is within
// startingDeadlineSeconds. All: the oldest slot within the deadline runs, and the slots after it are left due, so
// that each runs in its turn, oldest first. None: a slot runs only when it is reached on time. Every slot that
// will not run is counted as missed.
import type { Schedule } from './schedule.ts';

export interface SlotPlan {
  /** The slot to publish now, or null. */
  run: number | null;
  /** Slots in (cursor, run] (or (cursor, now] without a run) that will never run. */
  missed: number;
  /** The cursor after this plan: the latest slot accounted for. */
  newCursor: number;
  /** The first slot after the new cursor (due at once while All catches up), or null when there is none. */
  next: number | null;
}

/** The catchUp policy with what it needs: All's most slots run after one gap, None's lateness still on time. */
export type CatchUpRule =
  | { policy: 'Latest' }
  | { policy: 'All'; maxSlots: number }
  | { policy: 'None'; onTimeMs: number };

const LATEST: CatchUpRule = { policy: 'Latest' };

/** Half a microsecond: slots are whole microseconds, so a bound this much earlier excludes a slot on it. */
const HALF_US = 0.0005;

export function planSlots(
  schedule: Schedule,
  cursor: number,
  nowMs: number,
  startingDeadlineSeconds?: number,
  rule: CatchUpRule = LATEST,
): SlotPlan {
  const due = schedule.latest(cursor, nowMs);
  if (!due) return { run: null, missed: 0, newCursor: cursor, next: schedule.next(cursor) };
  let deadlineMs =
    startingDeadlineSeconds === undefined ? Number.POSITIVE_INFINITY : startingDeadlineSeconds * 1000;
  if (rule.policy === 'None') deadlineMs = Math.min(deadlineMs, rule.onTimeMs);
  if (rule.policy === 'All') return planAll(schedule, cursor, nowMs, due, deadlineMs, rule.maxSlots);
  // Asking from the latest slot keeps interval slots on their grid.
  const next = schedule.next(due.slot);
  if (nowMs - due.slot > deadlineMs) return { run: null, missed: due.count, newCursor: due.slot, next };
  return { run: due.slot, missed: due.count - 1, newCursor: due.slot, next };
}

/**
 * All: the slots within the deadline (at most `maxSlots`, the latest ones) run one by one, oldest first; the
 * ones before are missed. The plan runs the first of them and moves the cursor to it, so the next plan runs the
 * one after (and a slot that has fallen out of the deadline meanwhile is missed then).
 */
function planAll(
  schedule: Schedule,
  cursor: number,
  nowMs: number,
  due: { slot: number; count: number },
  deadlineMs: number,
  maxSlots: number,
): SlotPlan {
  const windowStart = nowMs - deadlineMs;
  const outside = windowStart > cursor ? (schedule.latest(cursor, windowStart - HALF_US)?.count ?? 0) : 0;
  const skipped = Math.max(outside, due.count - maxSlots);
  if (skipped >= due.count) {
    return { run: null, missed: due.count, newCursor: due.slot, next: schedule.next(due.slot) };
  }
  let lastSkipped = cursor;
  if (skipped > 0 && skipped === outside)
    lastSkipped = (schedule.latest(cursor, windowStart - HALF_US) as { slot: number }).slot;
  else if (skipped > 0) lastSkipped = nthSlot(schedule, cursor, skipped, nowMs);
  const run = schedule.next(lastSkipped) as number;
  return { run, missed: skipped, newCursor: run, next: schedule.next(run) };
}

/**
 * The n-th slot after `after` (n ≥ 1), knowing there are at least n up to `upTo`: found by halving the time
 * window on the count of slots, never by walking them (a long gap of a short interval holds millions).
 */
function nthSlot(schedule: Schedule, after: number, n: number, upTo: number): number {
  let lo = after;
  let hi = upTo;
  while (hi - lo > HALF_US) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if ((schedule.latest(after, mid)?.count ?? 0) >= n) hi = mid;
    else lo = mid;
  }
  return (schedule.latest(after, hi) as { slot: number }).slot;
}
