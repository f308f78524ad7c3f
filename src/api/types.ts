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

/** Celery crontab fields as celerybeat-redis's documented format names them. */
export type CeleryCrontabFields = Record<
  'minute' | 'hour' | 'day_of_week' | 'day_of_month' | 'month_of_year',
  string
>;

/** Celery's solar events (`celery.schedules.solar`), each a crossing of the sun through a horizon. */
export const SOLAR_EVENTS = [
  'dawn_astronomical',
  'dawn_nautical',
  'dawn_civil',
  'sunrise',
  'solar_noon',
  'sunset',
  'dusk_civil',
  'dusk_nautical',
  'dusk_astronomical',
] as const;

export type SolarEvent = (typeof SOLAR_EVENTS)[number];

/** A Celery solar schedule: the event at a place, in degrees (north and east positive). */
export interface SolarSpec {
  event: SolarEvent;
  latitude: number;
  longitude: number;
}

/** One schedule of `spec.schedules`: exactly one of the single schedule fields. */
export interface ScheduleItemSpec {
  interval?: IntervalSpec;
  crontab?: CrontabSpec;
  cron?: string;
  clocked?: string;
  solar?: SolarSpec;
}

/**
 * One entry of `spec.exclude`, read in the task's zone: a whole date (`date`, YYYY-MM-DD), or a calendar of
 * crontab fields (omitted fields are "*") whose matching minutes hold no slot.
 */
export interface ExclusionSpec extends CrontabSpec {
  date?: string;
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
  solar?: SolarSpec;
  schedules?: ScheduleItemSpec[];
  exclude?: ExclusionSpec[];
  timeZone?: string;
  enabled?: boolean;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: TaskOptionsSpec;
  startTime?: string;
  startingDeadlineSeconds?: number;
  oneOff?: boolean;
  endTime?: string;
  maxRuns?: number;
  catchUp?: CatchUpPolicy;
  description?: string;
  concurrencyPolicy?: ConcurrencyPolicy;
  pause?: PauseSpec;
  pauseAfterFailures?: number;
  jitterSeconds?: number;
}

export interface PauseSpec {
  reason: string;
  until?: string;
}

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';

/**
 * What the beat does with the slots it finds due after a gap (operator or broker down): run the latest
 * (Latest), every one in order (All), or none (None).
 */
export type CatchUpPolicy = 'Latest' | 'All' | 'None';

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
  /** Slots sent whose outcome is unknown (no confirm): not sent again, not counted as sent. */
  unknown?: number;
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
  | 'StoreUnavailable'
  | 'PolicyViolation'
  | 'BrokerSecretUnavailable';

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
  /** Publishes whose outcome is unknown (scheduled or manual): never counted as runs, never sent again. */
  unknownRunCount?: number;
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
  /** FAILURE results in a row of the newest runs, counted for spec.pauseAfterFailures (absent while none). */
  consecutiveFailures?: number;
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

/**
 * One schedule, normalised. `crontab` holds Celery's fields (read as Celery does); `cron` a CronJob
 * schedule string (read as Kubernetes does).
 */
export type SingleScheduleDefinition =
  | { kind: 'interval'; every: number; period: IntervalPeriod }
  | {
      kind: 'cron';
      expression: string;
      /**
       * The same schedule in celerybeat-redis's documented kinds, for readers of the Redis key: an `@every` as
       * whole seconds; otherwise the Celery crontab of the same values, exact unless both day fields are restricted
       * (a CronJob then runs on days matching either, Celery only on days matching both).
       */
      documented: { intervalSeconds: number } | { crontab: CeleryCrontabFields };
    }
  | {
      kind: 'crontab';
      minute: string;
      hour: string;
      dayOfWeek: string;
      dayOfMonth: string;
      monthOfYear: string;
    }
  | { kind: 'clocked'; at: number }
  | {
      kind: 'solar';
      event: SolarEvent;
      latitude: number;
      longitude: number;
      /**
       * For readers of the Redis key that know only celerybeat-redis's documented kinds: the daily crontab (UTC) of
       * the event's time at the equinox in mean solar time, the nearest fixed time of day.
       */
      documented: { crontab: CeleryCrontabFields };
    };

/**
 * The schedule of a task: one schedule, or several (`spec.schedules`) whose slots are merged, an instant two of
 * them share being one slot.
 */
export type ScheduleDefinition =
  | SingleScheduleDefinition
  | { kind: 'set'; schedules: SingleScheduleDefinition[] };

/** One entry of spec.exclude, normalised: a wall date, or the crontab fields of a calendar ("*" when omitted). */
export type ExclusionDefinition =
  | { kind: 'date'; date: string }
  | {
      kind: 'calendar';
      minute: string;
      hour: string;
      dayOfWeek: string;
      dayOfMonth: string;
      monthOfYear: string;
    };

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
  /** spec.exclude: wall dates and calendars (in timeZone) whose slots are not slots. */
  exclude?: ExclusionDefinition[];
  timeZone: string;
  enabled: boolean;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: TaskOptions;
  startTime?: number;
  startingDeadlineSeconds?: number;
  oneOff: boolean;
  /** spec.endTime: no slot after it. */
  endTime?: number;
  /** spec.maxRuns: completed once the run state counts this many runs. */
  maxRuns?: number;
  /** Absent: Latest. */
  catchUp?: Exclude<CatchUpPolicy, 'Latest'>;
  description?: string;
  /** spec.pause: no runs while set, until `until` (epoch ms) if given. */
  pause?: { reason: string; until?: number };
  /**
   * spec.pauseAfterFailures, when the operator reads run results (--result-backend): paused, in the run state,
   * once this many runs in a row have failed, until a resume.
   */
  pauseAfterFailures?: number;
  /** spec.pauseAfterFailures of an operator without --result-backend: it has no effect, as Ready says. */
  inertPauseAfterFailures?: number;
  /** The `celerybeat.io/resumed-at` annotation (epoch ms): failures of runs before it are forgiven. */
  resumedAt?: number;
  /** spec.jitterSeconds in milliseconds. */
  jitterMs?: number;
  /** Absent: Allow (runs may overlap, as in Celery beat). */
  concurrencyPolicy?: Exclude<ConcurrencyPolicy, 'Allow'>;
  /** Run state brought over from another scheduler (annotations, see annotations.ts); used for a new key only. */
  carriedOver?: { lastRunAt: number; totalRunCount: number };
  /** The schedule's name where it was imported from (annotation `celerybeat.io/original-name`). */
  originalName?: string;
}

/** One validation problem: `field` is a path such as `spec.options.priority`. */
export interface FieldError {
  field: string;
  message: string;
}

/** The Redis key prefix of the task keys when the operator is not told another (`--key-prefix`). */
export const DEFAULT_KEY_PREFIX = 'tasks:meta:';

/** The namespace of a PeriodicTask that names none, as for kubectl. */
export const DEFAULT_NAMESPACE = 'default';

/**
 * The namespace of a PeriodicTask object the operator holds: as given ("" only for a hand-written Redis key,
 * which only the Redis source makes), the default namespace when absent.
 */
export function namespaceOf(metadata: { namespace?: string | undefined }): string {
  return metadata.namespace ?? DEFAULT_NAMESPACE;
}

/**
 * The namespace a user wrote (a manifest's `metadata.namespace`, a `--namespace` flag, a kubeconfig
 * context): none or "" is the default namespace, as for kubectl.
 */
export function writtenNamespace(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : DEFAULT_NAMESPACE;
}

/** The task key of a PeriodicTask object the operator holds. */
export function taskKeyOf(object: { metadata: { namespace?: string | undefined; name: string } }): string {
  return taskKey(namespaceOf(object.metadata), object.metadata.name);
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

// ── PeriodicTaskPolicy ─────────────────────────────────────────────────────────────────────────────────

export const POLICY_KIND = 'PeriodicTaskPolicy';
export const POLICY_PLURAL = 'periodictaskpolicies';

/** A Kubernetes label selector (metav1.LabelSelector); an empty one selects every namespace. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** `Enforce`: a violating task is not scheduled. `Warn`: it runs, and the violation is reported as a warning. */
export type PolicyMode = 'Enforce' | 'Warn';

/**
 * What the PeriodicTasks of the selected namespaces may do. Every rule is optional (absent: no limit); name
 * lists hold patterns in which `*` stands for any run of characters.
 */
export interface PeriodicTaskPolicySpec {
  namespaceSelector: LabelSelector;
  mode?: PolicyMode;
  allowedTaskNames?: string[];
  deniedTaskNames?: string[];
  allowedQueues?: string[];
  allowedExchanges?: string[];
  allowedRoutingKeys?: string[];
  maxPriority?: number;
  allowedHeaders?: string[];
  maxArgsBytes?: number;
  maxKwargsBytes?: number;
  maxHeadersBytes?: number;
  maxJsonDepth?: number;
  minIntervalSeconds?: number;
  allowRunNow?: boolean;
  maxBackfillSlots?: number;
  maxRunsPerSecond?: number;
  allowReplace?: boolean;
  /** The broker the namespaces' runs go to instead of the operator's own: a URL held in a Secret. */
  broker?: PolicyBroker;
}

/** A key of a Secret in the operator's namespace (a file `<name>/<key>` of `--secrets-dir` in standalone mode). */
export interface SecretKeySelector {
  name: string;
  key: string;
}

export interface PolicyBroker {
  secretKeyRef: SecretKeySelector;
}

export interface PeriodicTaskPolicy {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: PeriodicTaskPolicySpec;
}
