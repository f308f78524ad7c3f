// The one validator of a PeriodicTask: the schema checks the API server also makes (same verdicts, same field
// names), then what only the operator can check (IANA zone, crontab values, real calendar dates), and the
// normalised TaskDefinition the rest of the operator works from.

import { LAST_RUN_AT_ANNOTATION, TOTAL_RUN_COUNT_ANNOTATION } from '../api/annotations.ts';
import { RFC3339_PATTERN, specSchema } from '../api/periodic-task-schema.ts';
import { isPlainObject } from '../api/plain-object.ts';
import { checkNode } from '../api/schema-check.ts';
import type {
  FieldError,
  PeriodicTaskSpec,
  ScheduleDefinition,
  TaskDefinition,
  TaskOptions,
} from '../api/types.ts';
import { API_VERSION, KIND } from '../api/types.ts';
import { buildTaskMessage, RESERVED_TASK_HEADERS } from '../celery/message.ts';
import { UnsafeMessageError } from '../celery/message-check.ts';
import type { CrontabFieldName } from '../schedule/crontab-parse.ts';
import { CRON_FIELD_ORDER, parseCrontabField, splitCron } from '../schedule/crontab-parse.ts';
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

/** Epoch ms of an RFC 3339 time the schema accepted, or null when its date does not exist (2026-02-30). */
function parseTimestamp(text: string): number | null {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999 (0000-02-29 exists, 1900-02-29 not).
  const day = new Date(0);
  day.setUTCFullYear(y!, m! - 1, d!);
  if (day.getUTCMonth() !== m! - 1 || day.getUTCDate() !== d) return null;
  return Date.parse(text);
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

/** Crontab fields as written (omitted = "*"), and the path used to name each one in messages. */
function crontabFields(
  spec: PeriodicTaskSpec,
): { fields: Record<CrontabFieldName, string>; pathOf: (f: CrontabFieldName) => string } | null {
  if (spec.crontab !== undefined) {
    const c = spec.crontab;
    return {
      fields: {
        minute: c.minute ?? '*',
        hour: c.hour ?? '*',
        dayOfWeek: c.dayOfWeek ?? '*',
        dayOfMonth: c.dayOfMonth ?? '*',
        monthOfYear: c.monthOfYear ?? '*',
      },
      pathOf: (f) => `spec.crontab.${f}`,
    };
  }
  if (spec.cron !== undefined) {
    const fields = splitCron(spec.cron);
    if (!fields) return null;
    return { fields, pathOf: () => 'spec.cron' };
  }
  return null;
}

function checkCrontab(spec: PeriodicTaskSpec, errors: FieldError[]): ScheduleDefinition | null {
  const found = crontabFields(spec);
  if (!found) return null;
  const sets: Partial<Record<CrontabFieldName, number[]>> = {};
  for (const f of CRONTAB_FIELDS) {
    const parsed = parseCrontabField(found.fields[f], f);
    if (parsed.ok) sets[f] = parsed.values;
    else {
      const which = spec.cron !== undefined ? ` (${f}, field ${CRON_FIELD_ORDER.indexOf(f) + 1} of 5)` : '';
      errors.push({
        field: found.pathOf(f),
        message: `Invalid value: ${JSON.stringify(found.fields[f])}${which}: ${parsed.message}`,
      });
    }
  }
  const { minute, hour, dayOfWeek, dayOfMonth, monthOfYear } = sets;
  if (!minute || !hour || !dayOfWeek || !dayOfMonth || !monthOfYear) return null;
  const calendar = new WallCalendar({ minute, hour, dayOfWeek, dayOfMonth, monthOfYear });
  if (calendar.nextWall(Date.UTC(2000, 0, 1)) === null) {
    const shown = spec.cron !== undefined ? `${JSON.stringify(spec.cron)}: ` : '';
    errors.push({
      field: spec.cron !== undefined ? 'spec.cron' : 'spec.crontab',
      message: `Invalid value: ${shown}never matches a date (day of month, month and day of week must all match)`,
    });
    return null;
  }
  return { kind: 'crontab', ...found.fields };
}

function scheduleOf(spec: PeriodicTaskSpec, errors: FieldError[]): ScheduleDefinition | null {
  if (spec.interval) return { kind: 'interval', every: spec.interval.every, period: spec.interval.period };
  if (spec.clocked !== undefined) {
    const at = parseTimestamp(spec.clocked);
    if (at === null)
      errors.push({
        field: 'spec.clocked',
        message: `Invalid value: ${JSON.stringify(spec.clocked)}: no such date`,
      });
    return at === null ? null : { kind: 'clocked', at };
  }
  return checkCrontab(spec, errors);
}

/** The empty kwargs and headers of every task that has none: one frozen object, not one per task. */
const NONE: Readonly<Record<string, never>> = Object.freeze({});

function optionsOf(spec: PeriodicTaskSpec, errors: FieldError[]): TaskOptions {
  const o = spec.options ?? {};
  for (const name of Object.keys(o.headers ?? {})) {
    if (RESERVED_TASK_HEADERS.has(name)) {
      errors.push({
        field: `spec.options.headers.${name}`,
        message: `Forbidden: "${name}" is a Celery protocol header and cannot be overridden`,
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
 * `defaultTimeZone` is the operator's --timezone, used when spec.timeZone is not set.
 */
export function validatePeriodicTask(
  obj: unknown,
  opts: { defaultTimeZone: string; handWritten?: boolean; resultBackend?: boolean },
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
  let startTime: number | undefined;
  if (spec.startTime !== undefined) {
    startTime = parseTimestamp(spec.startTime) ?? undefined;
    if (startTime === undefined)
      errors.push({
        field: 'spec.startTime',
        message: `Invalid value: ${JSON.stringify(spec.startTime)}: no such date`,
      });
  }
  const options = optionsOf(spec, errors);
  if (errors.length > 0 || !schedule) return { ok: false, errors };

  const messageErrors = messageProblems(spec.task, spec.args ?? [], spec.kwargs ?? {}, options);
  if (messageErrors.length > 0) return { ok: false, errors: messageErrors };

  const meta = obj.metadata as Record<string, unknown>;
  const definition: TaskDefinition = {
    // "" is the default namespace, as for kubectl; only a hand-written Redis key has none.
    namespace: handWritten
      ? ''
      : typeof meta.namespace === 'string' && meta.namespace !== ''
        ? meta.namespace
        : 'default',
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
  if (startTime !== undefined) definition.startTime = startTime;
  if (spec.startingDeadlineSeconds !== undefined)
    definition.startingDeadlineSeconds = spec.startingDeadlineSeconds;
  if (spec.description !== undefined) definition.description = spec.description;
  if (spec.pause) {
    // A null `until` is absent, as the API server prunes it.
    const until = spec.pause.until == null ? undefined : parseTimestamp(spec.pause.until);
    if (until === null) {
      errors.push({
        field: 'spec.pause.until',
        message: `Invalid value: ${JSON.stringify(spec.pause.until)}: no such date`,
      });
    }
    definition.pause = { reason: spec.pause.reason, ...(until == null ? {} : { until }) };
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
  const carriedOver = carriedOverState(meta.annotations, errors);
  if (errors.length > 0) return { ok: false, errors };
  if (carriedOver) definition.carriedOver = carriedOver;
  return { ok: true, definition };
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
      : null;
  if (at === null) {
    errors.push({
      field: field(LAST_RUN_AT_ANNOTATION),
      message: `Invalid value: ${JSON.stringify(lastRunAt ?? null)}: must be an RFC 3339 time (set with ${TOTAL_RUN_COUNT_ANNOTATION})`,
    });
  }
  const runs = typeof count === 'string' && /^\d{1,15}$/.test(count) ? Number(count) : null;
  if (runs === null) {
    errors.push({
      field: field(TOTAL_RUN_COUNT_ANNOTATION),
      message: `Invalid value: ${JSON.stringify(count ?? null)}: must be a non-negative integer (set with ${LAST_RUN_AT_ANNOTATION})`,
    });
  }
  if (at === null || runs === null) return undefined;
  return { lastRunAt: at, totalRunCount: runs };
}
