// A beat_schedule entry as celery-app-reader.py describes it, as a PeriodicTask spec. Crontab entries run
// in the app's time zone (`app.conf.timezone`), as Celery beat runs them.
import { CELERY_CRONTAB_FIELDS } from '../api/celery-crontab-fields.ts';
import { isPlainObject } from '../api/plain-object.ts';
import type { CrontabSpec, PeriodicTaskSpec, SolarEvent } from '../api/types.ts';
import { parseIsoTime } from '../store/hand-written-state.ts';
import { celeryOptions, describe } from './celery-options.ts';
import { intervalOfMicroseconds, intervalOfSeconds } from './interval.ts';
import { entryOf, isEmpty, type SourceEntry, UnsupportedError } from './source-entry.ts';

export interface DescribedApp {
  timezone: string | null;
  entries: Record<string, unknown>[];
}

/** `fallbackZone`: the --timezone flag, for an app with neither `timezone` nor `enable_utc`. */
export function celeryAppEntries(app: DescribedApp, fallbackZone: string | undefined): SourceEntry[] {
  const zone = app.timezone ?? fallbackZone;
  return app.entries.map((entry) =>
    entryOf(String(entry.name), () => {
      if (typeof entry.task !== 'string' || entry.task === '') throw new UnsupportedError('it has no "task"');
      const spec: PeriodicTaskSpec = { task: entry.task, ...scheduleOf(entry.schedule) };
      if (spec.crontab) {
        if (zone === undefined) {
          throw new UnsupportedError(
            'the app has no timezone and enable_utc is off (local time): give the zone with --timezone',
          );
        }
        spec.timeZone = zone;
      }
      if (!isEmpty(entry.args, [])) spec.args = plain(entry.args, 'args') as unknown[];
      if (!isEmpty(entry.kwargs, {})) spec.kwargs = plain(entry.kwargs, 'kwargs') as Record<string, unknown>;
      const options = celeryOptions(plain(entry.options, 'options'));
      if (options) spec.options = options;
      const lastRunAt = typeof entry.last_run_at === 'string' ? parseIsoTime(entry.last_run_at) : null;
      return { spec, lastRunAt, totalRunCount: Number(entry.total_run_count ?? 0) };
    }),
  );
}

function scheduleOf(schedule: unknown): Pick<PeriodicTaskSpec, 'interval' | 'crontab' | 'solar'> {
  if (!isPlainObject(schedule)) throw new UnsupportedError('it has no schedule');
  switch (schedule.kind) {
    case 'seconds':
    case 'microseconds':
      if (schedule.relative === true) {
        throw new UnsupportedError(
          'relative=True (run times rounded to the interval’s unit) cannot be expressed; intervals run on a fixed grid',
        );
      }
      return {
        interval:
          schedule.kind === 'seconds'
            ? intervalOfSeconds(schedule.value)
            : intervalOfMicroseconds(Number(schedule.value)),
      };
    case 'crontab': {
      const crontab: CrontabSpec = {};
      for (const [written, field] of CELERY_CRONTAB_FIELDS) {
        const value = schedule[written];
        if (typeof value !== 'string') throw new UnsupportedError(`crontab ${written} is ${describe(value)}`);
        crontab[field] = value;
      }
      return { crontab };
    }
    case 'solar':
      // Celery keeps solar()'s arguments as given; the validator checks the event and the ranges.
      return {
        solar: {
          event: schedule.event as SolarEvent,
          latitude: Number(schedule.lat),
          longitude: Number(schedule.lon),
        },
      };
    default:
      throw new UnsupportedError(`schedule class ${String(schedule.class)} cannot be expressed`);
  }
}

/** The value, or an UnsupportedError naming the first Python object in it that is not JSON. */
function plain(value: unknown, field: string): unknown {
  const found = pythonObject(value, field);
  if (found) throw new UnsupportedError(`${found.path} is ${describe(found.value)}, which is not JSON`);
  return value;
}

function pythonObject(value: unknown, path: string): { path: string; value: unknown } | null {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = pythonObject(v, `${path}[${i}]`);
      if (found) return found;
    }
  } else if (isPlainObject(value)) {
    if (typeof value.__python__ === 'string') return { path, value };
    for (const [k, v] of Object.entries(value)) {
      const found = pythonObject(v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return null;
}
