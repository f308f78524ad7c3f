// The annotations the operator reads on a PeriodicTask. Only `import` writes them; users may too.

/**
 * The run state a task brings from the scheduler it was moved from (`celerybeat-operator import`): read once,
 * when the task's Redis key does not exist yet and its status holds no run state, so a moved task neither
 * repeats its last run nor skips its next one. RFC 3339 time of the last run, and the number of runs so far.
 */
export const LAST_RUN_AT_ANNOTATION = 'celerybeat.io/last-run-at';
export const TOTAL_RUN_COUNT_ANNOTATION = 'celerybeat.io/total-run-count';

/**
 * The schedule's name in the system it was imported from: sent as the `original_periodic_task_name` header,
 * which no user header can replace (the namespace's own writers can still set this annotation).
 */
export const ORIGINAL_NAME_ANNOTATION = 'celerybeat.io/original-name';

/** Where an imported task came from (`celerybeat-redis`, `redbeat`, `django-celery-beat`, `celery-app`). */
export const IMPORTED_FROM_ANNOTATION = 'celerybeat.io/imported-from';

/**
 * One extra run now, once per value: any text (a timestamp is handy). Its task id comes from the task and
 * the value, so the same value never runs twice, whoever reads it and however often it is applied.
 */
export const RUN_NOW_ANNOTATION = 'celerybeat.io/run-now';

/**
 * `<from>/<to>` (RFC 3339): each slot of the schedule in that range that has not run yet runs once, oldest
 * first, with the slot's own task id.
 */
export const BACKFILL_ANNOTATION = 'celerybeat.io/backfill';

/**
 * A resume (`kubectl celerybeat resume`, `celerybeat-operator resume`), an RFC 3339 time: a task paused after
 * failures (spec.pauseAfterFailures) runs again, and its count of failures starts over, once per later value.
 * Failures of runs whose slot is before it are not counted.
 */
export const RESUMED_AT_ANNOTATION = 'celerybeat.io/resumed-at';
