// Celery ANDs the two day fields; a Kubernetes CronJob (robfig/cron) ORs them unless one of them is `*`. A user who
// knows one of them is surprised by the other, so say it when the two readings differ: for `crontab` (Celery's
// rule) and for `cron` (a CronJob's). A solar event skips days near the poles, where Celery raises: say that too.
import type { ScheduleDefinition, SolarEvent } from '../api/types.ts';
import { CRON_JOB_FIELDS, cronJobSchedule } from './cron-job-parse.ts';
import { type CrontabFieldName, FIELD_RANGES, parseCrontabField } from './crontab-parse.ts';
import { happensEveryDay } from './solar-events.ts';

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

/**
 * A one-sentence note when a `cron` string's day fields are both restricted, so it runs on days that match either
 * (as a CronJob does) where Celery would run only on days that match both; null otherwise (also when the string
 * does not parse, an error reported elsewhere). No note when both fields cover every day: the readings agree.
 */
export function cronDayNote(expression: string): string | null {
  const parsed = cronJobSchedule(expression);
  if (!parsed.ok || parsed.schedule.kind !== 'calendar' || !parsed.schedule.eitherDay) return null;
  const { dayOfMonth, dayOfWeek } = parsed.schedule.sets;
  if (dayOfMonth.length === 31 && dayOfWeek.length === 7) return null;
  const words = expression.trim().split(/[\t\n\v\f\r ]+/);
  const dom = words[CRON_JOB_FIELDS.indexOf('dayOfMonth')]!;
  const dow = words[CRON_JOB_FIELDS.indexOf('dayOfWeek')]!;
  return (
    `day of month ${JSON.stringify(dom)} and day of week ${JSON.stringify(dow)}: runs when either matches, as a ` +
    "CronJob does; use `crontab` for Celery's rule (both must match)."
  );
}

/**
 * A one-sentence note when a solar event does not happen on every day at the task's latitude (polar day or
 * night), or null. Celery raises on such a day; here the day has no run and the next run is the next day with
 * the event.
 */
export function solarDayNote(event: SolarEvent, latitude: number): string | null {
  if (happensEveryDay(event, latitude, 0)) return null;
  return (
    `at latitude ${latitude} some days have no ${event} (polar day or night): those days have no run, and the ` +
    'next run is the next day with one.'
  );
}

/** The day note of a schedule, or null (see crontabDayNote, cronDayNote and solarDayNote). */
export function scheduleDayNote(schedule: ScheduleDefinition): string | null {
  if (schedule.kind === 'crontab') return crontabDayNote(schedule);
  if (schedule.kind === 'cron') return cronDayNote(schedule.expression);
  if (schedule.kind === 'solar') return solarDayNote(schedule.event, schedule.latitude);
  return null;
}
