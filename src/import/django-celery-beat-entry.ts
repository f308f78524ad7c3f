// A django-celery-beat PeriodicTask row, with the schedule row it points at, as a PeriodicTask spec. The
// columns are those of django-celery-beat's models: args, kwargs and headers are JSON text, the send options
// are columns, and exactly one of interval, crontab (with its own time zone), clocked or solar is set.
import { isPlainObject } from '../api/plain-object.ts';
import type { PeriodicTaskSpec, SolarEvent, TaskOptionsSpec } from '../api/types.ts';
import { parseIsoTime } from '../store/hand-written-state.ts';
import { isoInstant } from './iso-time.ts';
import { entryOf, isEmpty, type SourceEntry, UnsupportedError } from './source-entry.ts';
import type { Row } from './sql-tables.ts';

export interface DjangoTables {
  tasks: Row[];
  intervals: Row[];
  crontabs: Row[];
  clocked: Row[];
  solar: Row[];
}

export function djangoEntries(tables: DjangoTables): SourceEntry[] {
  const byId = (rows: Row[]) => new Map(rows.map((r) => [String(r.id), r]));
  const schedules = {
    interval: byId(tables.intervals),
    crontab: byId(tables.crontabs),
    clocked: byId(tables.clocked),
    solar: byId(tables.solar),
  };
  return [...tables.tasks]
    .sort((a, b) => String(a.name).localeCompare(String(b.name)))
    .map((row) =>
      entryOf(String(row.name), () => {
        const spec: PeriodicTaskSpec = { task: String(row.task ?? ''), ...scheduleOf(row, schedules) };
        if (!truthy(row.enabled)) spec.enabled = false;
        const args = jsonColumn(row, 'args', '[]');
        if (!isEmpty(args, [])) spec.args = args as unknown[];
        const kwargs = jsonColumn(row, 'kwargs', '{}');
        if (!isPlainObject(kwargs) || Object.keys(kwargs).length > 0)
          spec.kwargs = kwargs as Record<string, unknown>;
        const options = optionsOf(row);
        if (Object.keys(options).length > 0) spec.options = options;
        if (row.start_time != null) spec.startTime = isoInstant(timeOf(row.start_time, 'start_time'));
        if (truthy(row.one_off)) spec.oneOff = true;
        if (typeof row.description === 'string' && row.description !== '') spec.description = row.description;
        const lastRunAt = row.last_run_at == null ? null : timeOf(row.last_run_at, 'last_run_at');
        return { spec, lastRunAt, totalRunCount: Number(row.total_run_count ?? 0) };
      }),
    );
}

type ScheduleRows = Record<'interval' | 'crontab' | 'clocked' | 'solar', Map<string, Row>>;

function scheduleOf(row: Row, schedules: ScheduleRows): Partial<PeriodicTaskSpec> {
  const linked = (kind: keyof ScheduleRows): Row | undefined => {
    const id = row[`${kind}_id`];
    if (id == null) return undefined;
    const target = schedules[kind].get(String(id));
    if (!target) throw new UnsupportedError(`its ${kind} schedule ${id} does not exist`);
    return target;
  };
  const interval = linked('interval');
  if (interval) return { interval: { every: Number(interval.every), period: interval.period as 'seconds' } };
  const crontab = linked('crontab');
  if (crontab) {
    const spec: Partial<PeriodicTaskSpec> = {
      crontab: {
        minute: String(crontab.minute),
        hour: String(crontab.hour),
        dayOfWeek: String(crontab.day_of_week),
        dayOfMonth: String(crontab.day_of_month),
        monthOfYear: String(crontab.month_of_year),
      },
    };
    if (typeof crontab.timezone === 'string' && crontab.timezone !== '') spec.timeZone = crontab.timezone;
    return spec;
  }
  const clocked = linked('clocked');
  if (clocked) return { clocked: isoInstant(timeOf(clocked.clocked_time, 'clocked_time')) };
  const solar = linked('solar');
  if (solar) {
    // latitude and longitude are decimal columns (text from PostgreSQL); the validator checks the event.
    return {
      solar: {
        event: solar.event as SolarEvent,
        latitude: Number(solar.latitude),
        longitude: Number(solar.longitude),
      },
    };
  }
  throw new UnsupportedError('it has no schedule (interval, crontab, clocked or solar)');
}

function optionsOf(row: Row): TaskOptionsSpec {
  const options: TaskOptionsSpec = {};
  if (nonEmpty(row.queue)) options.queue = row.queue;
  if (nonEmpty(row.exchange)) options.exchange = row.exchange;
  if (nonEmpty(row.routing_key)) options.routingKey = row.routing_key;
  if (row.priority != null) options.priority = Number(row.priority);
  if (row.expires != null) {
    // django-celery-beat sends it as each message's absolute expiry; the operator's counts from the slot.
    throw new UnsupportedError(
      `expires ${isoInstant(timeOf(row.expires, 'expires'))} (a fixed instant) cannot be expressed; use expire_seconds or clear it`,
    );
  }
  if (row.expire_seconds != null) options.expires = Number(row.expire_seconds);
  const headers = jsonColumn(row, 'headers', '{}');
  if (!isPlainObject(headers)) throw new UnsupportedError('headers is not a JSON object');
  if (Object.keys(headers).length > 0) options.headers = headers;
  return options;
}

function jsonColumn(row: Row, column: string, empty: string): unknown {
  const text = row[column] == null || row[column] === '' ? empty : String(row[column]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UnsupportedError(`${column} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * A time column as the database prints it: PostgreSQL `2026-11-24 07:00:30.123456+00`, SQLite
 * `2026-11-24 07:00:30.123456` (Django stores UTC there when USE_TZ is on; a value without offset is UTC).
 */
function timeOf(value: unknown, column: string): number {
  const text = String(value).replace(/([+-]\d{2})$/, '$1:00');
  const at = parseIsoTime(text);
  if (at === null) throw new UnsupportedError(`${column} ${JSON.stringify(value)} is not a time`);
  return at;
}

function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
