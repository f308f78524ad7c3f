// One hand-written celerybeat-redis key read as a PeriodicTask: celerybeat-redis's documented (README) shape with a
// top-level `interval` or `crontab`, and the shape celerybeat-redis 0.1.x itself writes (`schedule`, send
// options in `options`), plus the operator's own fields (`timezone`, `cron`, `clocked`, `solar`, `schedules`,
// `exclude`, `one_off`, `end_time`, `max_runs`, `catch_up`, …). The result is validated with the same rules as a
// PeriodicTask; a problem names the member of the key, not the spec field.

import { CELERY_CRONTAB_FIELDS } from '../api/celery-crontab-fields.ts';
import { isPlainObject } from '../api/plain-object.ts';
import {
  API_VERSION,
  type ExclusionSpec,
  KIND,
  type PeriodicTask,
  type PeriodicTaskSpec,
  type ScheduleItemSpec,
  type SolarSpec,
} from '../api/types.ts';
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
  exclusionsOf(value, spec, origin);
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

/**
 * The key's schedule. The operator's exact members win over the documented shape written beside them for
 * readers of celerybeat-redis's kinds: `schedules` (every schedule of a set), then `cron`, `clocked` or `solar`,
 * then `interval`, `crontab` or `schedule` (0.1.x). So a key the operator wrote reads back as it was meant.
 */
function scheduleOf(value: Record<string, unknown>, spec: PeriodicTaskSpec, origin: Map<string, string>) {
  if (value.schedules != null) {
    const schedules = value.schedules;
    if (!Array.isArray(schedules) || schedules.length === 0)
      throw new DocumentError('schedules', 'must be a non-empty list of schedules');
    spec.schedules = schedules.map((item, i) => {
      const at = `schedules[${i}]`;
      if (!isPlainObject(item)) throw new DocumentError(at, 'must be an object');
      return itemOf(item, `${at}.`, `spec.${at}.`, origin);
    });
    origin.set('spec.schedules', 'schedules');
    return;
  }
  Object.assign(spec, itemOf(value, '', 'spec.', origin));
}

const EXACT_KINDS = ['cron', 'clocked', 'solar'];
const DOCUMENTED_KINDS = ['interval', 'crontab', 'schedule'];

/** One schedule held by `holder` (the key, or an entry of its `schedules`), its members named from `at`. */
function itemOf(
  holder: Record<string, unknown>,
  at: string,
  specAt: string,
  origin: Map<string, string>,
): ScheduleItemSpec {
  const exact = EXACT_KINDS.filter((f) => holder[f] != null);
  const present = exact.length > 0 ? exact : DOCUMENTED_KINDS.filter((f) => holder[f] != null);
  if (present.length !== 1) {
    throw new DocumentError(
      present.map((f) => `${at}${f}`).join(', ') || `${at}interval`,
      present.length === 0
        ? 'Required value: one of "interval", "crontab", "cron", "clocked", "solar" or "schedules"'
        : `exactly one of ${present.map((f) => `"${f}"`).join(', ')} may be set`,
    );
  }
  const field = present[0] as string;
  const schedule = holder[field];
  const written = `${at}${field}`;
  if (field === 'clocked') {
    origin.set(`${specAt}clocked`, written);
    return { clocked: new Date(readWrittenTime(schedule, written)).toISOString() };
  }
  if (field === 'cron') {
    if (typeof schedule !== 'string')
      throw new DocumentError(written, 'must be a string such as "0 9 * * 1-5"');
    origin.set(`${specAt}cron`, written);
    return { cron: schedule };
  }
  if (!isPlainObject(schedule)) throw new DocumentError(written, 'must be an object');
  if (field === 'solar') {
    // Celery's arguments, as `solar(event, lat, lon)` takes them; the values are checked by the validator.
    for (const [arg, specName] of SOLAR_ARGUMENTS)
      origin.set(`${specAt}solar.${specName}`, `${written}.${arg}`);
    origin.set(`${specAt}solar`, written);
    return { solar: { event: schedule.event, latitude: schedule.lat, longitude: schedule.lon } as SolarSpec };
  }
  // `schedule` (the 0.1.x writer) holds either shape: {every, period} or the crontab fields.
  if (field === 'interval' || (field === 'schedule' && 'every' in schedule)) {
    origin.set(`${specAt}interval`, written);
    return { interval: intervalOf(schedule, written) };
  }
  origin.set(`${specAt}crontab`, written);
  return { crontab: crontabFieldsOf(schedule, written, `${specAt}crontab.`, origin) };
}

/** Celery's crontab names as the spec's; absent fields stay absent (the validator makes them "*"). */
function crontabFieldsOf(
  fields: Record<string, unknown>,
  written: string,
  specAt: string,
  origin: Map<string, string>,
): Record<string, string> {
  const crontab: Record<string, string> = {};
  for (const [name, specName] of CELERY_CRONTAB_FIELDS) {
    const v = fields[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) {
      throw new DocumentError(
        `${written}.${name}`,
        `must be a string such as "*/15", got ${JSON.stringify(v)}`,
      );
    }
    crontab[specName] = String(v);
    origin.set(`${specAt}${specName}`, `${written}.${name}`);
  }
  return crontab;
}

/** `exclude`: whole dates (`{"date": "2026-12-25"}`) and calendars with Celery's crontab names. */
function exclusionsOf(value: Record<string, unknown>, spec: PeriodicTaskSpec, origin: Map<string, string>) {
  if (value.exclude == null) return;
  if (!Array.isArray(value.exclude)) throw new DocumentError('exclude', 'must be a list');
  const calendarNames = new Set<string>(CELERY_CRONTAB_FIELDS.map(([name]) => name));
  spec.exclude = value.exclude.map((entry, i): ExclusionSpec => {
    const at = `exclude[${i}]`;
    if (!isPlainObject(entry)) throw new DocumentError(at, 'must be an object');
    origin.set(`spec.${at}`, at);
    if (entry.date !== undefined) {
      origin.set(`spec.${at}.date`, `${at}.date`);
      return { date: entry.date as string };
    }
    const unknown = Object.keys(entry).find((member) => !calendarNames.has(member));
    if (unknown !== undefined) {
      throw new DocumentError(
        `${at}.${unknown}`,
        'unknown member: an exclusion is a "date" or a calendar of minute, hour, day_of_week, day_of_month, month_of_year',
      );
    }
    return crontabFieldsOf(entry, at, `spec.${at}.`, origin);
  });
  origin.set('spec.exclude', 'exclude');
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
