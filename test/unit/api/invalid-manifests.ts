// Invalid PeriodicTask manifests, each with the field a rejection must name. `apiServer: true` cases are
// rejected by the CRD at `kubectl apply` (test/integration/crd); all of them are rejected by `validate`.

export interface InvalidCase {
  name: string;
  spec: Record<string, unknown>;
  /** The field the messages must name. */
  field: string;
  /** Whether the API server itself rejects it (false: only the operator can tell). */
  apiServer: boolean;
  metadataName?: string;
}

const every = { interval: { every: 10, period: 'seconds' } };

export const INVALID_CASES: readonly InvalidCase[] = [
  { name: 'no-task', spec: { ...every }, field: 'spec.task', apiServer: true },
  {
    name: 'jitter-as-long-as-the-interval',
    spec: { task: 'tasks.add', ...every, jitterSeconds: 10 },
    field: 'spec.jitterSeconds',
    apiServer: true,
  },
  {
    name: 'jitter-a-minute-on-a-crontab',
    spec: { task: 'tasks.add', cron: '*/5 * * * *', jitterSeconds: 60 },
    field: 'spec.jitterSeconds',
    apiServer: true,
  },
  {
    name: 'jitter-zero',
    spec: { task: 'tasks.add', ...every, jitterSeconds: 0 },
    field: 'spec.jitterSeconds',
    apiServer: true,
  },
  {
    name: 'pause-without-reason',
    spec: { task: 'tasks.add', ...every, pause: { until: '2026-12-24T18:00:00Z' } },
    field: 'spec.pause.reason',
    apiServer: true,
  },
  {
    name: 'pause-until-not-a-time',
    spec: { task: 'tasks.add', ...every, pause: { reason: 'x', until: 'tomorrow' } },
    field: 'spec.pause.until',
    apiServer: true,
  },
  {
    name: 'pause-until-no-such-day',
    spec: { task: 'tasks.add', ...every, pause: { reason: 'x', until: '2026-02-30T00:00:00Z' } },
    field: 'spec.pause.until',
    apiServer: false,
  },
  {
    name: 'concurrency-policy-unknown',
    spec: { task: 'tasks.add', ...every, concurrencyPolicy: 'Sometimes' },
    field: 'spec.concurrencyPolicy',
    apiServer: true,
  },
  { name: 'empty-task', spec: { task: '', ...every }, field: 'spec.task', apiServer: true },
  { name: 'no-schedule', spec: { task: 'tasks.add' }, field: 'spec', apiServer: true },
  {
    name: 'two-schedules',
    spec: { task: 'tasks.add', ...every, cron: '* * * * *' },
    field: 'spec',
    apiServer: true,
  },
  {
    name: 'every-zero',
    spec: { task: 'tasks.add', interval: { every: 0, period: 'seconds' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'every-negative',
    spec: { task: 'tasks.add', interval: { every: -5, period: 'minutes' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'every-string',
    spec: { task: 'tasks.add', interval: { every: '10', period: 'seconds' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'every-fraction',
    spec: { task: 'tasks.add', interval: { every: 1.5, period: 'hours' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'period-weeks',
    spec: { task: 'tasks.add', interval: { every: 1, period: 'weeks' } },
    field: 'spec.interval.period',
    apiServer: true,
  },
  {
    name: 'period-missing',
    spec: { task: 'tasks.add', interval: { every: 1 } },
    field: 'spec.interval.period',
    apiServer: true,
  },
  {
    name: 'microseconds-below-1ms',
    spec: { task: 'tasks.add', interval: { every: 500, period: 'microseconds' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'interval-over-100-years',
    spec: { task: 'tasks.add', interval: { every: 40000, period: 'days' } },
    field: 'spec.interval.every',
    apiServer: true,
  },
  {
    name: 'cron-three-fields',
    spec: { task: 'tasks.add', cron: '* * *' },
    field: 'spec.cron',
    apiServer: true,
  },
  {
    name: 'cron-six-fields',
    spec: { task: 'tasks.add', cron: '0 * * * * *' },
    field: 'spec.cron',
    apiServer: true,
  },
  {
    name: 'cron-bad-step',
    spec: { task: 'tasks.add', cron: '*/x * * * *' },
    field: 'spec.cron',
    apiServer: true,
  },
  {
    name: 'crontab-value-step',
    spec: { task: 'tasks.add', crontab: { minute: '5/15' } },
    field: 'spec.crontab.minute',
    apiServer: true,
  },
  {
    name: 'crontab-empty-hour',
    spec: { task: 'tasks.add', crontab: { hour: '' } },
    field: 'spec.crontab.hour',
    apiServer: true,
  },
  {
    name: 'crontab-empty-part',
    spec: { task: 'tasks.add', crontab: { minute: '1,,2' } },
    field: 'spec.crontab.minute',
    apiServer: true,
  },
  {
    name: 'crontab-space',
    spec: { task: 'tasks.add', crontab: { dayOfWeek: '1 2' } },
    field: 'spec.crontab.dayOfWeek',
    apiServer: true,
  },
  {
    name: 'crontab-int',
    spec: { task: 'tasks.add', crontab: { minute: 5 } },
    field: 'spec.crontab.minute',
    apiServer: true,
  },
  {
    name: 'crontab-unknown-field',
    spec: { task: 'tasks.add', crontab: { second: '0' } },
    field: 'spec.crontab.second',
    apiServer: true,
  },
  {
    name: 'clocked-words',
    spec: { task: 'tasks.add', clocked: 'tomorrow' },
    field: 'spec.clocked',
    apiServer: true,
  },
  {
    name: 'clocked-no-offset',
    spec: { task: 'tasks.add', clocked: '2026-12-24T18:00:00' },
    field: 'spec.clocked',
    apiServer: true,
  },
  {
    name: 'start-time-month-13',
    spec: { task: 'tasks.add', ...every, startTime: '2026-13-01T00:00:00Z' },
    field: 'spec.startTime',
    apiServer: true,
  },
  {
    name: 'args-object',
    spec: { task: 'tasks.add', ...every, args: { a: 1 } },
    field: 'spec.args',
    apiServer: true,
  },
  {
    name: 'kwargs-array',
    spec: { task: 'tasks.add', ...every, kwargs: [1, 2] },
    field: 'spec.kwargs',
    apiServer: true,
  },
  {
    name: 'priority-256',
    spec: { task: 'tasks.add', ...every, options: { priority: 256 } },
    field: 'spec.options.priority',
    apiServer: true,
  },
  {
    name: 'priority-negative',
    spec: { task: 'tasks.add', ...every, options: { priority: -1 } },
    field: 'spec.options.priority',
    apiServer: true,
  },
  {
    name: 'expires-zero',
    spec: { task: 'tasks.add', ...every, options: { expires: 0 } },
    field: 'spec.options.expires',
    apiServer: true,
  },
  {
    name: 'soft-limit-not-below-hard',
    spec: { task: 'tasks.add', ...every, options: { timeLimit: 10, softTimeLimit: 10 } },
    field: 'spec.options.softTimeLimit',
    apiServer: true,
  },
  {
    name: 'headers-string',
    spec: { task: 'tasks.add', ...every, options: { headers: 'tenant=acme' } },
    field: 'spec.options.headers',
    apiServer: true,
  },
  {
    name: 'queue-empty',
    spec: { task: 'tasks.add', ...every, options: { queue: '' } },
    field: 'spec.options.queue',
    apiServer: true,
  },
  {
    name: 'deadline-zero',
    spec: { task: 'tasks.add', ...every, startingDeadlineSeconds: 0 },
    field: 'spec.startingDeadlineSeconds',
    apiServer: true,
  },
  {
    name: 'enabled-string',
    spec: { task: 'tasks.add', ...every, enabled: 'sometimes' },
    field: 'spec.enabled',
    apiServer: true,
  },
  {
    name: 'one-off-string',
    spec: { task: 'tasks.add', ...every, oneOff: 'true' },
    field: 'spec.oneOff',
    apiServer: true,
  },
  {
    name: 'time-zone-empty',
    spec: { task: 'tasks.add', cron: '0 9 * * *', timeZone: '' },
    field: 'spec.timeZone',
    apiServer: true,
  },
  {
    name: 'typo-field',
    spec: { task: 'tasks.add', intervall: { every: 10, period: 'seconds' }, ...every },
    field: 'spec.intervall',
    apiServer: true,
  },
  {
    name: 'bad-name',
    spec: { task: 'tasks.add', ...every },
    field: 'metadata.name',
    apiServer: true,
    metadataName: 'Bad_Name',
  },
  // What only the operator can check:
  {
    name: 'unknown-zone',
    spec: { task: 'tasks.add', cron: '0 9 * * *', timeZone: 'Mars/Olympus_Mons' },
    field: 'spec.timeZone',
    apiServer: false,
  },
  {
    name: 'minute-61',
    spec: { task: 'tasks.add', crontab: { minute: '61' } },
    field: 'spec.crontab.minute',
    apiServer: false,
  },
  {
    name: 'hour-24-cron',
    spec: { task: 'tasks.add', cron: '0 24 * * *' },
    field: 'spec.cron',
    apiServer: false,
  },
  {
    name: 'day-of-week-7',
    spec: { task: 'tasks.add', crontab: { dayOfWeek: '7' } },
    field: 'spec.crontab.dayOfWeek',
    apiServer: false,
  },
  {
    name: 'month-name',
    spec: { task: 'tasks.add', crontab: { monthOfYear: 'jan' } },
    field: 'spec.crontab.monthOfYear',
    apiServer: true,
  },
  {
    name: 'day-of-month-0',
    spec: { task: 'tasks.add', crontab: { dayOfMonth: '0' } },
    field: 'spec.crontab.dayOfMonth',
    apiServer: false,
  },
  {
    name: 'step-zero',
    spec: { task: 'tasks.add', crontab: { minute: '*/0' } },
    field: 'spec.crontab.minute',
    apiServer: false,
  },
  {
    name: 'weekday-typo',
    spec: { task: 'tasks.add', crontab: { dayOfWeek: 'funday' } },
    field: 'spec.crontab.dayOfWeek',
    apiServer: true,
  },
  {
    name: 'never-matches',
    spec: { task: 'tasks.add', cron: '0 0 31 2 *' },
    field: 'spec.cron',
    apiServer: false,
  },
  {
    name: 'clocked-feb-30',
    spec: { task: 'tasks.add', clocked: '2026-02-30T00:00:00Z' },
    field: 'spec.clocked',
    apiServer: false,
  },
  {
    name: 'reserved-header',
    spec: { task: 'tasks.add', ...every, options: { headers: { id: 'mine' } } },
    field: 'spec.options.headers.id',
    apiServer: false,
  },
];

export function invalidManifest(c: InvalidCase): Record<string, unknown> {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: c.metadataName ?? `invalid-${c.name}` },
    spec: c.spec,
  };
}
