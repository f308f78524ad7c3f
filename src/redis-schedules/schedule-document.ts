// One hand-written celerybeat-redis key read as a PeriodicTask: celerybeat-redis's documented (README) shape with a
// top-level `interval` or `crontab`, and the shape celerybeat-redis 0.1.x itself writes (`schedule`, send
// options in `options`), plus the operator's own fields (`timezone`, `clocked`, `solar`, `one_off`, `end_time`, `max_runs`, `catch_up`, …). The result is
// validated with the same rules as a PeriodicTask; a problem names the member of the key, not the spec field.

import { CELERY_CRONTAB_FIELDS } from '../api/celery-crontab-fields.ts';
import { isPlainObject } from '../api/plain-object.ts';
import { API_VERSION, KIND, type PeriodicTask, type PeriodicTaskSpec, type SolarSpec } from '../api/types.ts';
import { RunStateFieldError, readWrittenRunState, readWrittenTime } from '../store/hand-written-state.ts';
import { validatePeriodicTask } from '../validation/validate.ts';
import { IntervalError, intervalOf } from './interval-units.ts';

export interface ScheduleDocument {
  /** The key's schedule as a PeriodicTask (namespace "", name: the key without the prefix). */
  task: PeriodicTask;
  /** The run state the key carries: `last_run_at` (null when absent) and `total_run_count`. */
  lastRunAt: number | null;
  totalRunCount: number;
}

export type DocumentReading =
  | { ok: true; document: ScheduleDocument }
  | { ok: false; field: string; message: string };

/** Celery's solar arguments and the spec fields they become. */
const SOLAR_ARGUMENTS = [
  ['event', 'event'],
  ['lat', 'latitude'],
  ['lon', 'longitude'],
] as const;

const OPTION_FIELDS = [
  ['queue', 'queue'],
  ['exchange', 'exchange'],
  ['routing_key', 'routingKey'],
  ['priority', 'priority'],
  ['expires', 'expires'],
  ['headers', 'headers'],
  ['time_limit', 'timeLimit'],
  ['soft_time_limit', 'softTimeLimit'],
] as const;

class DocumentError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Reads the value of the key `<prefix><name>`; never throws. */
export function readScheduleDocument(
  name: string,
  raw: string,
  defaultTimeZone = 'UTC',
  keyPrefix?: string,
): DocumentReading {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, field: '', message: `not valid JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(value)) return { ok: false, field: '', message: 'not a JSON object' };
  try {
    const origin = new Map<string, string>();
    const spec = specOf(value, origin);
    const state = readWrittenRunState(value);
    const task: PeriodicTask = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { namespace: '', name, uid: `redis:${name}`, generation: 1 },
      spec,
    };
    const verdict = validatePeriodicTask(task, { defaultTimeZone, handWritten: true, keyPrefix });
    if (!verdict.ok) {
      const [first] = verdict.errors;
      return { ok: false, field: documentField(first?.field ?? '', origin), message: first?.message ?? '' };
    }
    return { ok: true, document: { task, lastRunAt: state.lastRunAt, totalRunCount: state.totalRunCount } };
  } catch (error) {
    if (
      error instanceof DocumentError ||
      error instanceof IntervalError ||
      error instanceof RunStateFieldError
    ) {
      const message =
        error instanceof RunStateFieldError ? error.message.slice(error.field.length + 2) : error.message;
      return { ok: false, field: error.field, message };
    }
    throw error;
  }
}

function specOf(value: Record<string, unknown>, origin: Map<string, string>): PeriodicTaskSpec {
  if (typeof value.name !== 'string' || value.name === '') {
    throw new DocumentError('name', 'Required value: celerybeat-redis requires a "name"');
  }
  if (typeof value.task !== 'string' || value.task === '') {
    throw new DocumentError('task', 'Required value: the registered Celery task name');
  }
  const spec: PeriodicTaskSpec = { task: value.task };
  origin.set('spec.task', 'task');
  scheduleOf(value, spec, origin);
  copy(value, 'enabled', spec, 'enabled', origin);
  copy(value, 'args', spec, 'args', origin);
  copy(value, 'kwargs', spec, 'kwargs', origin);
  copy(value, 'timezone', spec, 'timeZone', origin);
  copy(value, 'description', spec, 'description', origin);
  copy(value, 'one_off', spec, 'oneOff', origin);
  copy(value, 'starting_deadline_seconds', spec, 'startingDeadlineSeconds', origin);
  copy(value, 'max_runs', spec, 'maxRuns', origin);
  copy(value, 'catch_up', spec, 'catchUp', origin);
  if (value.start_time != null) {
    spec.startTime = new Date(readWrittenTime(value.start_time, 'start_time')).toISOString();
    origin.set('spec.startTime', 'start_time');
  }
  if (value.end_time != null) {
    spec.endTime = new Date(readWrittenTime(value.end_time, 'end_time')).toISOString();
    origin.set('spec.endTime', 'end_time');
  }
  const options = optionsOf(value, origin);
  if (Object.keys(options).length > 0) spec.options = options;
  return spec;
}

function scheduleOf(value: Record<string, unknown>, spec: PeriodicTaskSpec, origin: Map<string, string>) {
  const present = ['interval', 'crontab', 'schedule', 'clocked', 'solar'].filter((f) => value[f] != null);
  if (present.length !== 1) {
    throw new DocumentError(
      present.join(', ') || 'interval',
      present.length === 0
        ? 'Required value: one of "interval", "crontab", "clocked" or "solar"'
        : `exactly one of ${present.map((f) => `"${f}"`).join(', ')} may be set`,
    );
  }
  const field = present[0] as string;
  const schedule = value[field];
  if (field === 'clocked') {
    spec.clocked = new Date(readWrittenTime(schedule, 'clocked')).toISOString();
    origin.set('spec.clocked', 'clocked');
    return;
  }
  if (!isPlainObject(schedule)) throw new DocumentError(field, 'must be an object');
  if (field === 'solar') {
    // Celery's arguments, as `solar(event, lat, lon)` takes them; the values are checked by the validator.
    spec.solar = { event: schedule.event, latitude: schedule.lat, longitude: schedule.lon } as SolarSpec;
    for (const [written, specName] of SOLAR_ARGUMENTS)
      origin.set(`spec.solar.${specName}`, `solar.${written}`);
    origin.set('spec.solar', 'solar');
    return;
  }
  // `schedule` (the 0.1.x writer) holds either shape: {every, period} or the crontab fields.
  if (field === 'interval' || (field === 'schedule' && 'every' in schedule)) {
    spec.interval = intervalOf(schedule, field);
    origin.set('spec.interval', field);
    return;
  }
  const crontab: Record<string, string> = {};
  for (const [written, specName] of CELERY_CRONTAB_FIELDS) {
    const v = schedule[written];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) {
      throw new DocumentError(
        `${field}.${written}`,
        `must be a string such as "*/15", got ${JSON.stringify(v)}`,
      );
    }
    crontab[specName] = String(v);
    origin.set(`spec.crontab.${specName}`, `${field}.${written}`);
  }
  spec.crontab = crontab;
  origin.set('spec.crontab', field);
}

/** Send options: the `options` object (0.1.x writer) first, then the README's top-level members. */
function optionsOf(value: Record<string, unknown>, origin: Map<string, string>): Record<string, unknown> {
  const nested = value.options == null ? {} : value.options;
  if (!isPlainObject(nested)) throw new DocumentError('options', 'must be an object');
  const options: Record<string, unknown> = {};
  for (const [written, specName] of OPTION_FIELDS) {
    const fromOptions = nested[written];
    const topLevel = written === 'headers' ? undefined : value[written];
    const chosen = fromOptions ?? topLevel;
    if (chosen === undefined || chosen === null) continue;
    options[specName] = chosen;
    origin.set(`spec.options.${specName}`, fromOptions != null ? `options.${written}` : written);
  }
  return options;
}

function copy(
  value: Record<string, unknown>,
  from: string,
  spec: PeriodicTaskSpec,
  to: keyof PeriodicTaskSpec,
  origin: Map<string, string>,
): void {
  if (value[from] === undefined || value[from] === null) return;
  (spec as unknown as Record<string, unknown>)[to] = value[from];
  origin.set(`spec.${to}`, from);
}

/** The key's member a validation error is about: the longest spec path the reader mapped. */
function documentField(specField: string, origin: Map<string, string>): string {
  for (let path = specField; path !== ''; path = path.replace(/(\.[^.]*|\[[^\]]*\])$/, '')) {
    const written = origin.get(path);
    if (written !== undefined) return written + specField.slice(path.length);
    if (!/[.[]/.test(path)) break;
  }
  return specField.replace(/^spec\./, '');
}
