// The one validator of a PeriodicTask: the schema checks the API server also makes (same verdicts, same field
// names), then what only the operator can check (IANA zone, crontab values, real calendar dates), and the
// normalised TaskDefinition the rest of the operator works from.

import {
  LAST_RUN_AT_ANNOTATION,
  ORIGINAL_NAME_ANNOTATION,
  RESUMED_AT_ANNOTATION,
  TOTAL_RUN_COUNT_ANNOTATION,
} from '../api/annotations.ts';
import { RFC3339_PATTERN, specSchema } from '../api/periodic-task-schema.ts';
import { isPlainObject } from '../api/plain-object.ts';
import { checkNode } from '../api/schema-check.ts';
import type {
  CrontabSpec,
  ExclusionDefinition,
  FieldError,
  PeriodicTaskSpec,
  ScheduleDefinition,
  ScheduleItemSpec,
  SingleScheduleDefinition,
  TaskDefinition,
  TaskOptions,
} from '../api/types.ts';
import { API_VERSION, DEFAULT_KEY_PREFIX, KIND, writtenNamespace } from '../api/types.ts';
import { buildTaskMessage, RESERVED_TASK_HEADERS } from '../celery/message.ts';
import { UnsafeMessageError } from '../celery/message-check.ts';
import { CRON_JOB_FIELDS, cronDefinition, cronJobSchedule } from '../schedule/cron-job-parse.ts';
import type { CrontabFieldName } from '../schedule/crontab-parse.ts';
import { parseCrontabField } from '../schedule/crontab-parse.ts';
import { equinoxCrontab } from '../schedule/solar-events.ts';
import { WallCalendar } from '../schedule/wall-calendar.ts';
import { isKnownTimeZone } from '../schedule/zone.ts';

export type ValidationResult = { ok: true; definition: TaskDefinition } | { ok: false; errors: FieldError[] };

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DEFAULT_QUEUE = 'celery';

const CRONTAB_FIELDS: readonly CrontabFieldName[] = [
  'minute',
  'hour',
  'dayOfWeek',
  'dayOfMonth',
  'monthOfYear',
];

/** The instants a Celery (Python) datetime can hold: 0001-01-01T00:00:00Z up to the end of 9999, in UTC. */
const FIRST_INSTANT_MS = new Date(0).setUTCFullYear(1, 0, 1);
const END_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z') + 1;

/**
 * Epoch ms of an RFC 3339 time the schema accepted, or why it names no instant the operator can keep: a date
 * that does not exist (2026-02-30), or one outside the years 1-9999 in UTC (the year 0000 the pattern allows,
 * 0001-01-01T00:00:00+01:00), which Redis readers in Python cannot decode. A `slot` (a clocked time) must
 * also leave room for the instant before it, where its run state starts.
 */
function parseTimestamp(text: string, { slot = false }: { slot?: boolean } = {}): number | string {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999 (0000-02-29 exists, 1900-02-29 not).
  const day = new Date(0);
  day.setUTCFullYear(y!, m! - 1, d!);
  if (day.getUTCMonth() !== m! - 1 || day.getUTCDate() !== d) return 'no such date';
  const at = Date.parse(text);
  if (!(at >= FIRST_INSTANT_MS && at < END_INSTANT_MS))
    return 'outside the years 0001-9999 (in UTC) that a Celery datetime holds';
  // A task's run state keeps the instant before its first slot, which must be a Celery datetime too.
  if (slot && at === FIRST_INSTANT_MS)
    return 'the first instant a Celery datetime holds cannot be a slot (the run state keeps the instant before it): use a later time';
  return at;
}

function checkMetadata(obj: Record<string, unknown>, errors: FieldError[], handWritten: boolean): void {
  if (obj.apiVersion !== API_VERSION) {
    errors.push({
      field: 'apiVersion',
      message: `Unsupported value: ${JSON.stringify(obj.apiVersion ?? null)}: supported values: "${API_VERSION}"`,
    });
  }
  if (obj.kind !== KIND) {
    errors.push({
      field: 'kind',
      message: `Unsupported value: ${JSON.stringify(obj.kind ?? null)}: supported values: "${KIND}"`,
    });
  }
  const meta = obj.metadata;
  if (!isPlainObject(meta)) {
    errors.push({ field: 'metadata.name', message: 'Required value: name is required' });
    return;
  }
  const { name, namespace } = meta;
  if (handWritten) {
    // A hand-written Redis key (src/redis-schedules/): its name is the key without the prefix, any text.
    if (typeof name !== 'string' || name === '') {
      errors.push({ field: 'metadata.name', message: 'Required value: name is required' });
    }
    return;
  }
  if (typeof name !== 'string' || name === '') {
    errors.push({ field: 'metadata.name', message: 'Required value: name is required' });
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    errors.push({
      field: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (
    namespace !== undefined &&
    namespace !== '' &&
    (typeof namespace !== 'string' || namespace.length > 63 || !DNS_LABEL.test(namespace))
  ) {
    errors.push({
      field: 'metadata.namespace',
      message: `Invalid value: ${JSON.stringify(namespace)}: must be a lowercase RFC 1123 label`,
    });
  }
}

function checkCrontab(
  crontab: CrontabSpec,
  errors: FieldError[],
  field = 'spec.crontab',
): SingleScheduleDefinition | null {
  const fields: Record<CrontabFieldName, string> = {
    minute: crontab.minute ?? '*',
    hour: crontab.hour ?? '*',
    dayOfWeek: crontab.dayOfWeek ?? '*',
    dayOfMonth: crontab.dayOfMonth ?? '*',
    monthOfYear: crontab.monthOfYear ?? '*',
  };
  const sets: Partial<Record<CrontabFieldName, number[]>> = {};
  for (const f of CRONTAB_FIELDS) {
    const parsed = parseCrontabField(fields[f], f);
    if (parsed.ok) sets[f] = parsed.values;
    else {
      errors.push({
        field: `${field}.${f}`,
        message: `Invalid value: ${JSON.stringify(fields[f])}: ${parsed.message}`,
      });
    }
  }
  const { minute, hour, dayOfWeek, dayOfMonth, monthOfYear } = sets;
  if (!minute || !hour || !dayOfWeek || !dayOfMonth || !monthOfYear) return null;
  const calendar = new WallCalendar({ minute, hour, dayOfWeek, dayOfMonth, monthOfYear });
  if (calendar.nextWall(Date.UTC(2000, 0, 1)) === null) {
    errors.push({
      field,
      message: 'Invalid value: never matches a date (day of month, month and day of week must all match)',
    });
    return null;
  }
  return { kind: 'crontab', ...fields };
}

/** A `cron` string, read as a Kubernetes CronJob reads its schedule; messages name the field that is wrong. */
function checkCron(cron: string, errors: FieldError[], field = 'spec.cron'): SingleScheduleDefinition | null {
  const parsed = cronJobSchedule(cron);
  if (!parsed.ok) {
    const { field: cronField, text } = parsed;
    const shown =
      cronField === undefined || text === undefined
        ? JSON.stringify(cron)
        : `${JSON.stringify(text)} (${cronField}, field ${CRON_JOB_FIELDS.indexOf(cronField) + 1} of 5)`;
    errors.push({ field, message: `Invalid value: ${shown}: ${parsed.message}` });
    return null;
  }
  const s = parsed.schedule;
  if (s.kind === 'calendar') {
    const empty = CRON_JOB_FIELDS.some((f) => s.sets[f].length === 0);
    if (
      empty ||
      new WallCalendar(s.sets, { eitherDay: s.eitherDay }).nextWall(Date.UTC(2000, 0, 1)) === null
    ) {
      const rule = s.eitherDay
        ? 'the month must match, and the day of month or the day of week'
        : 'month, day of month and day of week must all match';
      errors.push({
        field,
        message: `Invalid value: ${JSON.stringify(cron)}: never matches a date (${rule})`,
      });
      return null;
    }
  }
  return cronDefinition(cron);
}

function scheduleOf(spec: PeriodicTaskSpec, errors: FieldError[]): ScheduleDefinition | null {
  if (spec.schedules === undefined) return singleScheduleOf(spec, 'spec', errors);
  const schedules = spec.schedules.map((item, i) => singleScheduleOf(item, `spec.schedules[${i}]`, errors));
  // The schema counts the intervals; a cron @every is a grid too, which only the parsed string shows.
  const grids = schedules.filter(
    (s) => s?.kind === 'interval' || (s?.kind === 'cron' && 'intervalSeconds' in s.documented),
  );
  if (grids.length > 1) {
    errors.push({
      field: 'spec.schedules',
      message: `Invalid value: ${grids.length} intervals (interval or cron @every): at most one in spec.schedules (write several as crontab or cron)`,
    });
  }
  if (schedules.some((s) => s === null) || grids.length > 1) return null;
  return { kind: 'set', schedules: schedules as SingleScheduleDefinition[] };
}

/** The one schedule of `item` (spec, or an entry of spec.schedules at `path`). */
function singleScheduleOf(
  item: ScheduleItemSpec,
  path: string,
  errors: FieldError[],
): SingleScheduleDefinition | null {
  if (item.interval) return { kind: 'interval', every: item.interval.every, period: item.interval.period };
  if (item.clocked !== undefined) {
    const at = parseTimestamp(item.clocked, { slot: true });
    if (typeof at === 'string') {
      errors.push({
        field: `${path}.clocked`,
        message: `Invalid value: ${JSON.stringify(item.clocked)}: ${at}`,
      });
      return null;
    }
    return { kind: 'clocked', at };
  }
  if (item.crontab !== undefined) return checkCrontab(item.crontab, errors, `${path}.crontab`);
  if (item.cron !== undefined) return checkCron(item.cron, errors, `${path}.cron`);
  if (item.solar !== undefined) {
    const { event, latitude, longitude } = item.solar;
    return {
      kind: 'solar',
      event,
      latitude,
      longitude,
      documented: { crontab: equinoxCrontab(event, latitude, longitude) },
    };
  }
  return null;
}

/**
 * spec.exclude: real dates, crontab values in range, and no calendar that matches every minute (it would
 * exclude every slot).
 */
function exclusionsOf(spec: PeriodicTaskSpec, errors: FieldError[]): ExclusionDefinition[] | undefined {
  if (spec.exclude === undefined) return undefined;
  const out: ExclusionDefinition[] = [];
  spec.exclude.forEach((e, i) => {
    const path = `spec.exclude[${i}]`;
    if (e.date !== undefined) {
      const at = parseTimestamp(`${e.date}T00:00:00Z`);
      if (typeof at === 'string')
        errors.push({ field: `${path}.date`, message: `Invalid value: ${JSON.stringify(e.date)}: ${at}` });
      else out.push({ kind: 'date', date: e.date });
      return;
    }
    const fields: Record<CrontabFieldName, string> = {
      minute: e.minute ?? '*',
      hour: e.hour ?? '*',
      dayOfWeek: e.dayOfWeek ?? '*',
      dayOfMonth: e.dayOfMonth ?? '*',
      monthOfYear: e.monthOfYear ?? '*',
    };
    let every = true;
    let valid = true;
    for (const f of CRONTAB_FIELDS) {
      const parsed = parseCrontabField(fields[f], f);
      if (!parsed.ok) {
        valid = false;
        errors.push({
          field: `${path}.${f}`,
          message: `Invalid value: ${JSON.stringify(fields[f])}: ${parsed.message}`,
        });
      } else if (parsed.values.length < FIELD_SIZES[f]) every = false;
    }
    if (valid && every) {
      errors.push({
        field: path,
        message: 'Invalid value: matches every time, so it would exclude every slot',
      });
    } else if (valid) out.push({ kind: 'calendar', ...fields });
  });
  return out;
}

/** How many values each crontab field has: a field with all of them matches every time. */
const FIELD_SIZES: Readonly<Record<CrontabFieldName, number>> = {
  minute: 60,
  hour: 24,
  dayOfWeek: 7,
  dayOfMonth: 31,
  monthOfYear: 12,
};

/**
 * The schema keeps a cron string's jitter under a minute; an `@every` may be shorter, which the schema cannot
 * read from the string: a jitter as long as the delay could swap two slots.
 */
function checkEveryJitter(
  schedule: ScheduleDefinition | null,
  jitterSeconds: number | undefined,
  errors: FieldError[],
): void {
  if (schedule?.kind !== 'cron' || jitterSeconds === undefined || !('intervalSeconds' in schedule.documented))
    return;
  const every = schedule.documented.intervalSeconds;
  if (jitterSeconds < every) return;
  errors.push({
    field: 'spec.jitterSeconds',
    message: `Invalid value: ${jitterSeconds}: must be shorter than the time between two slots (${every} s, the @every of spec.cron)`,
  });
}

/** The empty kwargs and headers of every task that has none: one frozen object, not one per task. */
const NONE: Readonly<Record<string, never>> = Object.freeze({});

/** The fields of spec.options that name Redis keys or broker objects. */
const ROUTING_FIELDS = ['queue', 'exchange', 'routingKey'] as const;

/**
 * A queue, exchange or routing key under the operator's key prefix would address task keys, another
 * namespace's included (an LPUSH there makes the key a list: that task is then blocked for good). The schema
 * refuses the names reserved everywhere; the prefix is the operator's configuration, so it is checked here.
 */
function checkRoutingNames(spec: PeriodicTaskSpec, keyPrefix: string, errors: FieldError[]): void {
  for (const field of ROUTING_FIELDS) {
    const value = spec.options?.[field];
    if (value === undefined || keyPrefix === '' || !value.startsWith(keyPrefix)) continue;
    errors.push({
      field: `spec.options.${field}`,
      message: `Invalid value: ${JSON.stringify(value)}: must not start with the operator's key prefix ${JSON.stringify(keyPrefix)} (the task keys of every namespace are there)`,
    });
  }
}

function optionsOf(spec: PeriodicTaskSpec, errors: FieldError[]): TaskOptions {
  const o = spec.options ?? {};
  for (const name of Object.keys(o.headers ?? {})) {
    if (RESERVED_TASK_HEADERS.has(name)) {
      errors.push({
        field: `spec.options.headers.${name}`,
        message: `Forbidden: "${name}" is a header Celery or the operator sets and cannot be overridden`,
      });
    }
  }
  const options: TaskOptions = { queue: o.queue ?? DEFAULT_QUEUE, headers: o.headers ?? NONE };
  if (o.exchange !== undefined) options.exchange = o.exchange;
  if (o.routingKey !== undefined) options.routingKey = o.routingKey;
  if (o.priority !== undefined) options.priority = o.priority;
  if (o.expires !== undefined) options.expires = o.expires;
  if (o.timeLimit !== undefined) options.timeLimit = o.timeLimit;
  if (o.softTimeLimit !== undefined) options.softTimeLimit = o.softTimeLimit;
  return options;
}

/**
 * What the last check before the broker would refuse in every message of this task (a header name a broker
 * cannot carry, a lone surrogate, JSON nested too deep…): the same check, run on a sample message, so the
 * validator never accepts a task whose every run would be refused.
 */
function messageProblems(
  task: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: TaskOptions,
): FieldError[] {
  try {
    // No expiry: a sample built "now" for an old slot must not read as expired.
    const { expires: _expires, ...sampleOptions } = options;
    buildTaskMessage({
      task,
      id: SAMPLE_TASK_ID,
      args,
      kwargs,
      options: sampleOptions,
      scheduledAt: Date.now(),
      periodicTaskName: 'validation/sample',
      namespace: 'validation',
    });
    return [];
  } catch (error) {
    if (!(error instanceof UnsafeMessageError)) throw error;
    return error.problems.map((problem) => ({
      field: fieldOfProblem(problem),
      message: `Invalid value: ${problem}`,
    }));
  }
}

const SAMPLE_TASK_ID = '00000000-0000-5000-8000-000000000000';

/** The spec field a message problem comes from: its text starts with the part of the message it is about. */
function fieldOfProblem(problem: string): string {
  if (problem.startsWith('args')) return 'spec.args';
  if (problem.startsWith('kwargs')) return 'spec.kwargs';
  if (problem.startsWith('body')) return 'spec';
  if (problem.startsWith('header task')) return 'spec.task';
  return 'spec.options.headers';
}

/** The spec with null fields dropped (the API server prunes them), keeping nulls inside args/kwargs/headers. */
function withoutNulls(spec: Record<string, unknown>): Record<string, unknown> {
  const prune = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
  const out = prune(spec);
  for (const key of ['interval', 'crontab', 'options']) {
    const child = out[key];
    if (isPlainObject(child)) out[key] = prune(child);
  }
  return out;
}

/**
 * Validates a PeriodicTask object (as read from a file or from the API server) and normalises it.
 * `defaultTimeZone` is the operator's --timezone, used when spec.timeZone is not set; `keyPrefix` its
 * --key-prefix (default `tasks:meta:`), which no queue, exchange or routing key may start with.
 */
export function validatePeriodicTask(
  obj: unknown,
  opts: { defaultTimeZone: string; handWritten?: boolean; resultBackend?: boolean; keyPrefix?: string },
): ValidationResult {
  if (!isPlainObject(obj))
    return { ok: false, errors: [{ field: '', message: 'a PeriodicTask must be a YAML/JSON object' }] };
  const errors: FieldError[] = [];
  const handWritten = opts.handWritten === true;
  checkMetadata(obj, errors, handWritten);
  if (obj.spec === undefined || obj.spec === null) errors.push({ field: 'spec', message: 'Required value' });
  else checkNode(specSchema, obj.spec, 'spec', errors);
  if (errors.length > 0) return { ok: false, errors };

  const spec = withoutNulls(obj.spec as Record<string, unknown>) as unknown as PeriodicTaskSpec;
  const timeZone = spec.timeZone ?? opts.defaultTimeZone;
  if (!isKnownTimeZone(timeZone)) {
    const source = spec.timeZone === undefined ? " (the operator's --timezone default)" : '';
    errors.push({
      field: 'spec.timeZone',
      message: `Invalid value: ${JSON.stringify(timeZone)}${source}: not a known IANA time zone`,
    });
  }
  const schedule = scheduleOf(spec, errors);
  const exclude = exclusionsOf(spec, errors);
  const solar =
    schedule?.kind === 'solar' ||
    (schedule?.kind === 'set' && schedule.schedules.some((s) => s.kind === 'solar'));
  if (solar && exclude !== undefined && exclude.length > 0)
    // A solar event's days can be months apart (near the poles); the exclusions would be searched through
    // each of them, and so would the beat.
    errors.push({
      field: 'spec.exclude',
      message: 'Forbidden: exclusions cannot be combined with a solar schedule',
    });
  checkEveryJitter(schedule, spec.jitterSeconds, errors);
  let startTime: number | undefined;
  if (spec.startTime !== undefined) {
    const at = parseTimestamp(spec.startTime);
    if (typeof at === 'number') startTime = at;
    else
      errors.push({
        field: 'spec.startTime',
        message: `Invalid value: ${JSON.stringify(spec.startTime)}: ${at}`,
      });
  }
  const endTime = endTimeOf(spec, startTime, schedule ?? undefined, errors);
  const options = optionsOf(spec, errors);
  checkRoutingNames(spec, opts.keyPrefix ?? DEFAULT_KEY_PREFIX, errors);
  if (errors.length > 0 || !schedule) return { ok: false, errors };

  const messageErrors = messageProblems(spec.task, spec.args ?? [], spec.kwargs ?? {}, options);
  if (messageErrors.length > 0) return { ok: false, errors: messageErrors };

  const meta = obj.metadata as Record<string, unknown>;
  const definition: TaskDefinition = {
    // "" is the default namespace, as for kubectl; only a hand-written Redis key has none.
    namespace: handWritten ? '' : writtenNamespace(meta.namespace),
    name: meta.name as string,
    uid: typeof meta.uid === 'string' ? meta.uid : '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    task: spec.task,
    schedule,
    timeZone,
    enabled: spec.enabled ?? true,
    args: spec.args ?? [],
    kwargs: spec.kwargs ?? NONE,
    options,
    oneOff: spec.oneOff ?? false,
  };
  if (exclude !== undefined && exclude.length > 0) definition.exclude = exclude;
  if (startTime !== undefined) definition.startTime = startTime;
  if (spec.startingDeadlineSeconds !== undefined)
    definition.startingDeadlineSeconds = spec.startingDeadlineSeconds;
  if (endTime !== undefined) definition.endTime = endTime;
  if (spec.maxRuns !== undefined) definition.maxRuns = spec.maxRuns;
  if (spec.catchUp !== undefined && spec.catchUp !== 'Latest') definition.catchUp = spec.catchUp;
  if (spec.description !== undefined) definition.description = spec.description;
  if (spec.pause) {
    // A null `until` is absent, as the API server prunes it.
    const until = spec.pause.until == null ? undefined : parseTimestamp(spec.pause.until);
    if (typeof until === 'string') {
      errors.push({
        field: 'spec.pause.until',
        message: `Invalid value: ${JSON.stringify(spec.pause.until)}: ${until}`,
      });
    }
    definition.pause = { reason: spec.pause.reason, ...(typeof until === 'number' ? { until } : {}) };
  }
  // Shorter than the slot spacing: a rule of the schema (CEL), checked above with the others.
  if (spec.jitterSeconds !== undefined) definition.jitterMs = spec.jitterSeconds * 1000;
  const policy = spec.concurrencyPolicy ?? 'Allow';
  if (policy !== 'Allow') {
    // The end of a run is only known from the result backend; without it Forbid would skip every slot.
    if (opts.resultBackend === false) {
      errors.push({
        field: 'spec.concurrencyPolicy',
        message: `Invalid value: "${policy}": needs the operator's --result-backend (the end of a run is read from Celery's result backend)`,
      });
    }
    definition.concurrencyPolicy = policy;
  }
  if (spec.pauseAfterFailures !== undefined) {
    // Without the result backend no failure is ever seen: the task runs as if the field were not set, and
    // Ready says so, rather than the task not running at all (a brake missing is not a reason to stop).
    if (opts.resultBackend === false) definition.inertPauseAfterFailures = spec.pauseAfterFailures;
    else definition.pauseAfterFailures = spec.pauseAfterFailures;
  }
  const resumedAt = resumedAtOf(meta.annotations, errors);
  if (resumedAt !== undefined) definition.resumedAt = resumedAt;
  const carriedOver = carriedOverState(meta.annotations, errors);
  if (errors.length > 0) return { ok: false, errors };
  if (carriedOver) definition.carriedOver = carriedOver;
  const originalName = isPlainObject(meta.annotations)
    ? meta.annotations[ORIGINAL_NAME_ANNOTATION]
    : undefined;
  if (typeof originalName === 'string') definition.originalName = originalName;
  return { ok: true, definition };
}

/**
 * spec.endTime as epoch ms: after startTime (a window with no instant in it could never run), and not before a
 * clocked task's one slot (which could then never run).
 */
function endTimeOf(
  spec: PeriodicTaskSpec,
  startTime: number | undefined,
  schedule: ScheduleDefinition | undefined,
  errors: FieldError[],
): number | undefined {
  if (spec.endTime === undefined) return undefined;
  const at = parseTimestamp(spec.endTime);
  const invalid = (why: string): undefined => {
    errors.push({ field: 'spec.endTime', message: `Invalid value: ${JSON.stringify(spec.endTime)}: ${why}` });
    return undefined;
  };
  if (typeof at === 'string') return invalid(at);
  if (startTime !== undefined && at <= startTime) return invalid('must be after spec.startTime');
  if (schedule?.kind === 'clocked' && at < schedule.at) return invalid('must not be before spec.clocked');
  return at;
}

/** The `celerybeat.io/resumed-at` annotation as epoch ms, when set: an RFC 3339 time. */
function resumedAtOf(annotations: unknown, errors: FieldError[]): number | undefined {
  if (!isPlainObject(annotations)) return undefined;
  const value = annotations[RESUMED_AT_ANNOTATION];
  if (value === undefined) return undefined;
  const at =
    typeof value === 'string' && new RegExp(RFC3339_PATTERN).test(value)
      ? parseTimestamp(value)
      : 'must be an RFC 3339 time (the time of the resume)';
  if (typeof at === 'number') return at;
  errors.push({
    field: `metadata.annotations[${JSON.stringify(RESUMED_AT_ANNOTATION)}]`,
    message: `Invalid value: ${JSON.stringify(value)}: ${at}`,
  });
  return undefined;
}

/** The run state of the `celerybeat.io/last-run-at` and `…/total-run-count` annotations, when set. */
function carriedOverState(
  annotations: unknown,
  errors: FieldError[],
): TaskDefinition['carriedOver'] | undefined {
  if (!isPlainObject(annotations)) return undefined;
  const lastRunAt = annotations[LAST_RUN_AT_ANNOTATION];
  const count = annotations[TOTAL_RUN_COUNT_ANNOTATION];
  if (lastRunAt === undefined && count === undefined) return undefined;
  const field = (name: string) => `metadata.annotations[${JSON.stringify(name)}]`;
  const at =
    typeof lastRunAt === 'string' && new RegExp(RFC3339_PATTERN).test(lastRunAt)
      ? parseTimestamp(lastRunAt)
      : `must be an RFC 3339 time (set with ${TOTAL_RUN_COUNT_ANNOTATION})`;
  if (typeof at === 'string') {
    errors.push({
      field: field(LAST_RUN_AT_ANNOTATION),
      message: `Invalid value: ${JSON.stringify(lastRunAt ?? null)}: ${at}`,
    });
  }
  const runs = typeof count === 'string' && /^\d{1,15}$/.test(count) ? Number(count) : null;
  if (runs === null) {
    errors.push({
      field: field(TOTAL_RUN_COUNT_ANNOTATION),
      message: `Invalid value: ${JSON.stringify(count ?? null)}: must be a non-negative integer (set with ${LAST_RUN_AT_ANNOTATION})`,
    });
  }
  if (typeof at === 'string' || runs === null) return undefined;
  return { lastRunAt: at, totalRunCount: runs };
}
