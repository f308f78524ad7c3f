// Celery's crontab argument names (as celerybeat-redis, RedBeat and Celery apps write them) and the
// PeriodicTask crontab field each one is.
export const CELERY_CRONTAB_FIELDS = [
  ['minute', 'minute'],
  ['hour', 'hour'],
  ['day_of_week', 'dayOfWeek'],
  ['day_of_month', 'dayOfMonth'],
  ['month_of_year', 'monthOfYear'],
] as const;
