// The PeriodicTask resource (celerybeat.io/v1alpha1) as users write it, and the validated,
// normalised definition the rest of the operator works from.

export const GROUP = 'celerybeat.io';
export const VERSION = 'v1alpha1';
export const KIND = 'PeriodicTask';
export const PLURAL = 'periodictasks';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type IntervalPeriod = 'days' | 'hours' | 'minutes' | 'seconds' | 'microseconds';

export interface IntervalSpec {
  every: number;
  period: IntervalPeriod;
}

/** Celery crontab fields, each a Celery pattern string; an omitted field means "*". */
export interface CrontabSpec {
  minute?: string;
  hour?: string;
  dayOfWeek?: string;
  dayOfMonth?: string;
  monthOfYear?: string;
}

export interface TaskOptionsSpec {
  queue?: string;
  exchange?: string;
  routingKey?: string;
  priority?: number;
  expires?: number;
  headers?: Record<string, unknown>;
  timeLimit?: number;
  softTimeLimit?: number;
}

export interface PeriodicTaskSpec {
  task: string;
  interval?: IntervalSpec;
  crontab?: CrontabSpec;
  cron?: string;
  clocked?: string;
  timeZone?: string;
  enabled?: boolean;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: TaskOptionsSpec;
  startTime?: string;
  startingDeadlineSeconds?: number;
  oneOff?: boolean;
  description?: string;
  concurrencyPolicy?: ConcurrencyPolicy;
  pause?: PauseSpec;
  jitterSeconds?: number;
}

export interface PauseSpec {
  reason: string;
  until?: string;
}

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';

/** Celery's task states as its result backend stores them; PENDING is also "unknown". */
export type ResultState = 'PENDING' | 'RECEIVED' | 'STARTED' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

export interface LastResult {
  taskId: string;
  state: ResultState;
  finishedAt?: string;
  error?: string;
}

export interface RecentRun {
  slot: string;
  taskId: string;
  state: ResultState;
  durationSeconds?: number;
}

export interface BackfillStatus {
  range: string;
  /** Slots of the schedule in the range. */
  slots: number;
  /** Slots sent by the backfill so far. */
  sent: number;
  /** Slots that had run already (not sent again). */
  alreadyRun: number;
  state: 'Running' | 'Done' | 'TooLarge' | 'Invalid';
  message?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export type ReadyReason =
  | 'Scheduled'
  | 'InvalidSpec'
  | 'Disabled'
  | 'Paused'
  | 'Completed'
  | 'StoreUnavailable';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface PeriodicTaskStatus {
  /** The schedule in words (describeSchedule in src/schedule/describe.ts), shown in the SCHEDULE column. */
  schedule?: string;
  lastRunAt?: string;
  totalRunCount?: number;
  lastTaskId?: string;
  nextRunAt?: string;
  missedRunCount?: number;
  lastSuccessfulRunAt?: string;
  lastFailedRunAt?: string;
  lastResult?: LastResult;
  recentRuns?: RecentRun[];
  /** The last `celerybeat.io/run-now` value handled. */
  lastRunNow?: string;
  /** The last `celerybeat.io/backfill` range handled and how far it got. */
  backfill?: BackfillStatus;
  /** Slots that fell inside a pause (not counted as missed). */
  pausedRunCount?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PeriodicTask {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: PeriodicTaskSpec;
  status?: PeriodicTaskStatus;
}

/** The one schedule of a task, normalised: `cron` strings become crontab fields. */
export type ScheduleDefinition =
  | { kind: 'interval'; every: number; period: IntervalPeriod }
  | {
      kind: 'crontab';
      minute: string;
      hour: string;
      dayOfWeek: string;
      dayOfMonth: string;
      monthOfYear: string;
    }
  | { kind: 'clocked'; at: number };

/** Celery apply_async options after validation; absent means "not set". */
export interface TaskOptions {
  queue: string;
  exchange?: string;
  routingKey?: string;
  priority?: number;
  expires?: number;
  headers: Record<string, unknown>;
  timeLimit?: number;
  softTimeLimit?: number;
}

/** A valid PeriodicTask, as the store, the beat and the publisher see it. Times are epoch milliseconds. */
export interface TaskDefinition {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  task: string;
  schedule: ScheduleDefinition;
  timeZone: string;
  enabled: boolean;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: TaskOptions;
  startTime?: number;
  startingDeadlineSeconds?: number;
  oneOff: boolean;
  description?: string;
  /** spec.pause: no runs while set, until `until` (epoch ms) if given. */
  pause?: { reason: string; until?: number };
  /** spec.jitterSeconds in milliseconds. */
  jitterMs?: number;
  /** Absent: Allow (runs may overlap, as in Celery beat). */
  concurrencyPolicy?: Exclude<ConcurrencyPolicy, 'Allow'>;
  /** Run state brought over from another scheduler (annotations, see annotations.ts); used for a new key only. */
  carriedOver?: { lastRunAt: number; totalRunCount: number };
}

/** One validation problem: `field` is a path such as `spec.options.priority`. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * `<namespace>/<name>`: the identity used in Redis keys, headers and logs. A hand-written celerybeat-redis key
 * (`--redis-schedules`) has no namespace: it is known by its name, the key without the prefix.
 */
export function taskKey(namespace: string, name: string): string {
  // Joined, not concatenated: `${namespace}/${name}` makes a rope of two strings, and every map that holds
  // the key keeps both (56 bytes against 32 per key; several maps hold one per task).
  return namespace === '' ? name : [namespace, name].join('/');
}

/** A task read from a hand-written Redis key rather than from a PeriodicTask resource or file. */
export function isHandWritten(def: { namespace: string }): boolean {
  return def.namespace === '';
}
