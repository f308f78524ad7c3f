// How many runs of one task fall in each bucket of a window (the timeline's counts), with the beat's rules:
// each slot after the cursor runs at its run time (jitter included), a one-off task once.
import { taskKey } from '../api/types.ts';
import { runTimeOf } from './jitter.ts';
import type { RunPlan } from './run-plan.ts';

/** Runs of one task in a window walked one by one; above this the slots are counted per bucket instead. */
const WALK_LIMIT = 100_000;
/** Half a microsecond: slots are whole microseconds, so (t − HALF_US, u − HALF_US] holds the slots in [t, u). */
const HALF_US = 0.0005;

export interface Buckets {
  /** Start of the first bucket, epoch ms. */
  from: number;
  bucketMs: number;
  count: number;
}

/**
 * Runs per bucket of a task's plan. A task with more than
 * WALK_LIMIT slots in the window has its slots counted per bucket by the schedule (no walk over millions of
 * slots): a run then counts in its slot's bucket, at most the jitter earlier than its run time.
 */
export function runsPerBucket(plan: RunPlan, buckets: Buckets, walkLimit = WALK_LIMIT): number[] {
  const { def, schedule, cursor } = plan;
  const counts = new Array<number>(buckets.count).fill(0);
  const to = buckets.from + buckets.bucketMs * buckets.count;
  const add = (at: number): void => {
    if (at >= buckets.from && at < to) counts[Math.floor((at - buckets.from) / buckets.bucketMs)]!++;
  };
  const pending = plan.pending.slice(0, plan.limit);
  for (const at of pending) add(at);
  const limit = plan.limit - pending.length;
  const slotsBefore = (t: number): number =>
    t - HALF_US <= cursor ? 0 : (schedule.latest(cursor, t - HALF_US)?.count ?? 0);
  if (limit > walkLimit && slotsBefore(to) > walkLimit) {
    let before = slotsBefore(buckets.from);
    for (let b = 0; b < buckets.count; b++) {
      const upTo = slotsBefore(buckets.from + (b + 1) * buckets.bucketMs);
      counts[b]! += upTo - before;
      before = upTo;
    }
    return counts;
  }
  const key = taskKey(def.namespace, def.name);
  let runs = 0;
  for (
    let slot = schedule.next(cursor);
    slot !== null && slot < to && runs < limit;
    slot = schedule.next(slot)
  ) {
    runs++;
    add(runTimeOf(def, key, slot));
  }
  return counts;
}
