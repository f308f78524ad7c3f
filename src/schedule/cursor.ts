// The slot cursor a task starts from when the operator first sees it (Redis `last_run_at` of a new key).
// Slots run in (cursor, now], so the cursor itself never runs.
import type { TaskDefinition } from '../api/types.ts';
import { PERIOD_MICROSECONDS } from './interval-schedule.ts';

/**
 * - interval: the first run is one interval after the task is first seen. With startTime the slots are
 *   startTime + k·every (k >= 1): the cursor is startTime when it is still ahead, else the last grid point at
 *   or before firstSeen (so no backlog is replayed).
 * - crontab/cron: from firstSeen, but never a slot before startTime (a slot exactly at startTime runs).
 * - clocked: its one slot runs even when the task is first seen after it (as django-celery-beat does), subject
 *   to startingDeadlineSeconds; never before startTime.
 */
export function initialCursor(def: TaskDefinition, firstSeenMs: number): number {
  const { schedule, startTime } = def;
  switch (schedule.kind) {
    case 'interval': {
      if (startTime === undefined || startTime >= firstSeenMs) return startTime ?? firstSeenMs;
      const everyUs = schedule.every * PERIOD_MICROSECONDS[schedule.period];
      const startUs = Math.round(startTime * 1000);
      const steps = Math.floor((Math.round(firstSeenMs * 1000) - startUs) / everyUs);
      return (startUs + steps * everyUs) / 1000;
    }
    case 'crontab':
      return startTime === undefined ? firstSeenMs : Math.max(firstSeenMs, startTime - 1);
    case 'clocked': {
      const cursor = Math.min(firstSeenMs, schedule.at - 1);
      return startTime === undefined ? cursor : Math.max(cursor, startTime - 1);
    }
  }
}
