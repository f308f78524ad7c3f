// One RedBeat entry, the hash `<prefix><name>`: its `definition` JSON (name, task, args, kwargs, options,
// enabled, and a schedule tagged `"__type__": "interval" | "crontab" | "rrule"`) and its `meta` JSON
// (last_run_at, total_run_count). RedBeat writes datetimes as wall-clock fields plus a `timezone`: an IANA
// name, an offset in seconds, or, before it had one, nothing (UTC).

import { CELERY_CRONTAB_FIELDS } from '../api/celery-crontab-fields.ts';
import { isPlainObject } from '../api/plain-object.ts';
import type { CrontabSpec, PeriodicTaskSpec } from '../api/types.ts';
import { isKnownTimeZone } from '../schedule/zone.ts';
import { parseIsoTime } from '../store/hand-written-state.ts';
import { celeryOptions, describe } from './celery-options.ts';
import { intervalOfSeconds } from './interval.ts';
import { entryOf, isEmpty, type SourceEntry, UnsupportedError } from './source-entry.ts';
import { wallTimeToInstant } from './wall-time.ts';

/** `keyName` is the key without the prefix; the entry's own `name` wins when it has one. */
export function readRedBeatEntry(keyName: string, definition: string, meta: string | null): SourceEntry {
  let def: unknown;
  try {
    def = JSON.parse(definition);
  } catch (error) {
    return { ok: false, name: keyName, problem: `definition is not JSON: ${(error as Error).message}` };
  }
  if (!isPlainObject(def)) return { ok: false, name: keyName, problem: 'definition is not a JSON object' };
  const name = typeof def.name === 'string' && def.name !== '' ? def.name : keyName;
  return entryOf(name, () => {
    if (typeof def.task !== 'string' || def.task === '')
      throw new UnsupportedError('definition has no "task"');
    const spec: PeriodicTaskSpec = { task: def.task, ...scheduleOf(def.schedule) };
    if (def.enabled === false) spec.enabled = false;
    if (!isEmpty(def.args, [])) spec.args = def.args as unknown[];
    if (!isEmpty(def.kwargs, {})) spec.kwargs = def.kwargs as Record<string, unknown>;
    const options = celeryOptions(def.options);
    if (options) spec.options = options;
    return { spec, ...runStateOf(meta) };
  });
}

function scheduleOf(schedule: unknown): Pick<PeriodicTaskSpec, 'interval' | 'crontab'> {
  if (!isPlainObject(schedule))
    throw new UnsupportedError(`schedule is not an object: ${describe(schedule)}`);
  switch (schedule.__type__) {
    case 'interval':
      if (schedule.relative === true) {
        throw new UnsupportedError(
          'relative=True (run times rounded to the interval’s unit) cannot be expressed; intervals run on a fixed grid',
        );
      }
      return { interval: intervalOfSeconds(schedule.every) };
    case 'crontab': {
      const crontab: CrontabSpec = {};
      for (const [written, field] of CELERY_CRONTAB_FIELDS) {
        const value = crontabField(schedule[written], written);
        if (value !== undefined) crontab[field] = value;
      }
      return { crontab };
    }
    case 'rrule':
      throw new UnsupportedError('rrule schedules cannot be expressed (no PeriodicTask equivalent)');
    default:
      throw new UnsupportedError(`schedule type ${describe(schedule.__type__ ?? null)} is not known`);
  }
}

/** RedBeat keeps the crontab arguments as the user gave them: a pattern, a number or a list of numbers. */
function crontabField(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => Number.isInteger(v))) {
    return value.join(',');
  }
  throw new UnsupportedError(`crontab ${field} ${describe(value)} is not a pattern, a number or a list`);
}

function runStateOf(meta: string | null): { lastRunAt: number | null; totalRunCount: number } {
  if (meta === null || meta === '') return { lastRunAt: null, totalRunCount: 0 };
  let value: unknown;
  try {
    value = JSON.parse(meta);
  } catch (error) {
    throw new UnsupportedError(`meta is not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(value)) throw new UnsupportedError('meta is not a JSON object');
  const count = value.total_run_count ?? 0;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new UnsupportedError(`meta total_run_count ${describe(count)} is not a count`);
  }
  const last = value.last_run_at;
  return { lastRunAt: last == null ? null : instantOf(last), totalRunCount: count };
}

/** A RedBeat datetime: its wall-clock fields in its `timezone`, or an ISO-8601 string. */
export function instantOf(value: unknown): number {
  if (typeof value === 'string') {
    const at = parseIsoTime(value);
    if (at === null) throw new UnsupportedError(`meta last_run_at ${describe(value)} is not a time`);
    return at;
  }
  if (!isPlainObject(value) || value.__type__ !== 'datetime') {
    throw new UnsupportedError(`meta last_run_at ${describe(value)} is not a datetime`);
  }
  const f = (key: string, fallback?: number): number => {
    const v = value[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new UnsupportedError(`meta last_run_at.${key} ${describe(v ?? null)} is not an integer`);
    }
    return v;
  };
  const date = new Date(0);
  date.setUTCFullYear(f('year'), f('month') - 1, f('day'));
  date.setUTCHours(f('hour', 0), f('minute', 0), f('second', 0), 0);
  const wall = date.getTime() + f('microsecond', 0) / 1000;
  const zone = value.timezone ?? 'UTC';
  // An offset is written in seconds east of UTC (RedBeat's encoder: utcoffset().total_seconds()).
  if (typeof zone === 'number' && Number.isFinite(zone)) return wall - zone * 1000;
  if (typeof zone === 'string' && isKnownTimeZone(zone)) return wallTimeToInstant(wall, zone);
  throw new UnsupportedError(`meta last_run_at.timezone ${describe(zone)} is not a known time zone`);
}
