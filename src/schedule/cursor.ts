// The slot cursor a task starts from when the operator first sees it (Redis `last_run_at` of a new key).
// Slots run in (cursor, now], so the cursor itself never runs.
import type { TaskDefinition } from '../api/types.ts';
import { cronJobSchedule } from './cron-job-parse.ts';
import { PERIOD_MICROSECONDS } from './interval-schedule.ts';

/** A grid of `everyUs` through startTime: startTime while ahead, else its last point at or before firstSeen. */
function gridCursor(everyUs: number, startTime: number | undefined, firstSeenMs: number): number {
  if (startTime === undefined || startTime >= firstSeenMs) return startTime ?? firstSeenMs;
  const startUs = Math.round(startTime * 1000);
  const steps = Math.floor((Math.round(firstSeenMs * 1000) - startUs) / everyUs);
  return (startUs + steps * everyUs) / 1000;
}

/**
 * - interval: the first run is one interval after the task is first seen. With startTime the slots are
 *   startTime + k·every (k >= 1): the cursor is startTime when it is still ahead, else the last grid point at
 *   or before firstSeen (so no backlog is replayed).
 * - crontab/cron/solar and several schedules: from firstSeen, but never a slot before startTime (a slot exactly at startTime runs). A cron
 *   `@every` is a grid as an interval is.
 * - clocked: its one slot runs even when the task is first seen after it (as django-celery-beat does), subject
 *   to startingDeadlineSeconds; never before startTime.
 */
export function initialCursor(def: TaskDefinition, firstSeenMs: number): number {
  const { schedule, startTime } = def;
  switch (schedule.kind) {
    case 'interval':
      return gridCursor(schedule.every * PERIOD_MICROSECONDS[schedule.period], startTime, firstSeenMs);
    case 'cron': {
      const parsed = cronJobSchedule(schedule.expression);
      if (parsed.ok && parsed.schedule.kind === 'every') {
        // From the whole second, as robfig/cron counts (and a reader adding the interval to the cursor agrees).
        const firstSecond = Math.floor(firstSeenMs / 1000) * 1000;
        return gridCursor(parsed.schedule.seconds * 1_000_000, startTime, firstSecond);
      }
      return startTime === undefined ? firstSeenMs : Math.max(firstSeenMs, startTime - 1);
    }
    case 'crontab':
    case 'solar':
    // A set's intervals lie on a grid through startTime (a slot of it, as a crontab slot there would be).
    case 'set':
      return startTime === undefined ? firstSeenMs : Math.max(firstSeenMs, startTime - 1);
    case 'clocked': {
      const cursor = Math.min(firstSeenMs, schedule.at - 1);
      return startTime === undefined ? cursor : Math.max(cursor, startTime - 1);
    }
  }
}
