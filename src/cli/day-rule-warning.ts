// The one place where a crontab means something else to Celery than to a Kubernetes CronJob: with both day
// of month and day of week restricted, Celery runs on days matching both, a CronJob (robfig/cron) on days
// matching either. `validate` and `next` warn about it; the schedule itself follows Celery.
import type { ScheduleDefinition } from '../api/types.ts';
import { type CrontabFieldName, FIELD_RANGES, parseCrontabField } from '../schedule/crontab-parse.ts';

/** Whether a CronJob treats the field as "*" (any part "*" or "*\/1"): then it also requires both to match. */
function isCronJobStar(text: string): boolean {
  return text.split(',').some((part) => /^\s*\*(\/0*1)?\s*$/.test(part));
}

function coversWholeRange(text: string, field: CrontabFieldName): boolean {
  const parsed = parseCrontabField(text, field);
  const { min, max } = FIELD_RANGES[field];
  return parsed.ok && parsed.values.length === max - min + 1;
}

/** The warning for a schedule whose day rule differs between Celery and a CronJob; undefined when none. */
export function dayRuleWarning(schedule: ScheduleDefinition): string | undefined {
  if (schedule.kind !== 'crontab') return undefined;
  const { dayOfMonth, dayOfWeek } = schedule;
  if (isCronJobStar(dayOfMonth) || isCronJobStar(dayOfWeek)) return undefined;
  // Both fields listing every value: "both" and "either" are the same days.
  if (coversWholeRange(dayOfMonth, 'dayOfMonth') && coversWholeRange(dayOfWeek, 'dayOfWeek'))
    return undefined;
  return (
    `day of month ${JSON.stringify(dayOfMonth.trim())} and day of week ${JSON.stringify(dayOfWeek.trim())} ` +
    'are both restricted: runs are only on days that match both (Celery), whereas a Kubernetes CronJob ' +
    'with the same fields runs on days that match either'
  );
}
