// Celery ANDs the two day fields; a Kubernetes CronJob (robfig/cron) ORs them unless one of them is `*`. A user who
// knows one of them is surprised by the other, so say it when the two readings differ.
import { type CrontabFieldName, FIELD_RANGES, parseCrontabField } from './crontab-parse.ts';

type DayFields = Readonly<Pick<Record<CrontabFieldName, string>, 'dayOfMonth' | 'dayOfWeek'>>;

/** A CronJob reads a field containing a `*` part (or `*\/1`) as unrestricted, and then ANDs, as Celery does. */
function starForCronJob(text: string): boolean {
  return text.split(',').some((part) => part.trim() === '*' || part.trim() === '*/1');
}

function coversRange(text: string, field: CrontabFieldName): boolean | null {
  const parsed = parseCrontabField(text, field);
  if (!parsed.ok) return null;
  const { min, max } = FIELD_RANGES[field];
  return parsed.values.length === max - min + 1;
}

/**
 * A one-sentence note when Celery and a Kubernetes CronJob would run the same day fields on different days, or
 * null: both fields are restricted (or one is written as its full range without `*`), so Celery runs only on days
 * that match both while a CronJob runs on days that match either. Null too when a field does not parse (that is
 * an error reported elsewhere).
 */
export function crontabDayNote(fields: DayFields): string | null {
  const { dayOfMonth, dayOfWeek } = fields;
  const domFull = coversRange(dayOfMonth, 'dayOfMonth');
  const dowFull = coversRange(dayOfWeek, 'dayOfWeek');
  if (domFull === null || dowFull === null) return null;
  if (starForCronJob(dayOfMonth) || starForCronJob(dayOfWeek) || (domFull && dowFull)) return null;
  return (
    `dayOfMonth ${JSON.stringify(dayOfMonth)} and dayOfWeek ${JSON.stringify(dayOfWeek)} must both match, as in ` +
    'Celery; a Kubernetes CronJob with the same fields runs on days that match either.'
  );
}
