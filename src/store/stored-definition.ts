// A task's definition read back from the key the operator wrote: what a new leader dispatches from at once,
// before its source has read the resources (a provisional definition, replaced by the reconciler's as soon as
// the source has read them). The exact inverse of encodeDefinitionHead: every member it writes is read back,
// and a key without the members that make the definition complete (an older operator's key, one whose spec
// turned invalid and is held) is left to the reconciler.
import type {
  CatchUpPolicy,
  CeleryCrontabFields,
  ConcurrencyPolicy,
  ExclusionDefinition,
  IntervalPeriod,
  ScheduleDefinition,
  SingleScheduleDefinition,
  SolarEvent,
  TaskDefinition,
  TaskOptions,
} from '../api/types.ts';
import type { Owner } from '../contracts.ts';
import { decodeDatetime } from './datetime.ts';

/** A definition and run state read from a key, or why the key gives none. */
export type StoredDefinition =
  | { ok: true; def: TaskDefinition; owner: Owner }
  | { ok: false; reason: string };

type Members = Record<string, unknown>;

/**
 * The definition in a decoded value (its run state is read by decodeTaskValue). Never throws: a key that
 * does not read is the reconciler's to rewrite once the source has the resource.
 */
export function readStoredDefinition(value: Members): StoredDefinition {
  try {
    if (value.held !== undefined) return { ok: false, reason: 'held: its resource is not dispatched' };
    if (typeof value.generation !== 'number') return { ok: false, reason: 'written by an older version' };
    const owner = value.owner as Owner;
    const def: TaskDefinition = {
      namespace: owner.namespace,
      name: owner.name,
      uid: owner.uid,
      generation: value.generation,
      task: text(value, 'task'),
      schedule: scheduleOf(value),
      timeZone: text(value, 'timezone'),
      enabled: flag(value, 'enabled'),
      args: list(value.args, 'args'),
      kwargs: members(value.kwargs, 'kwargs'),
      options: optionsOf(members(value.options, 'options')),
      oneOff: flag(value, 'one_off'),
    };
    if (value.exclude !== undefined) def.exclude = list(value.exclude, 'exclude').map(exclusionOf);
    if (value.start_time !== undefined) def.startTime = decodeDatetime(value.start_time);
    if (value.starting_deadline_seconds !== undefined)
      def.startingDeadlineSeconds = num(value, 'starting_deadline_seconds');
    if (value.end_time !== undefined) def.endTime = decodeDatetime(value.end_time);
    if (value.max_runs !== undefined) def.maxRuns = num(value, 'max_runs');
    if (value.catch_up !== undefined)
      def.catchUp = oneOf(value, 'catch_up', ['All', 'None']) as Exclude<CatchUpPolicy, 'Latest'>;
    if (value.description !== undefined) def.description = text(value, 'description');
    if (value.pause !== undefined) {
      const pause = members(value.pause, 'pause');
      def.pause = { reason: text(pause, 'reason') };
      if (pause.until !== undefined) def.pause.until = decodeDatetime(pause.until);
    }
    if (value.jitter_ms !== undefined) def.jitterMs = num(value, 'jitter_ms');
    if (value.concurrency_policy !== undefined)
      def.concurrencyPolicy = oneOf(value, 'concurrency_policy', ['Forbid', 'Replace']) as Exclude<
        ConcurrencyPolicy,
        'Allow'
      >;
    if (value.original_name !== undefined) def.originalName = text(value, 'original_name');
    // Counted only with a result backend; an operator without one has nothing that would pause the task.
    if (value.pause_after_failures !== undefined) def.pauseAfterFailures = num(value, 'pause_after_failures');
    return { ok: true, def, owner };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** Several schedules are under `schedules`, each in its exact form; the top level then holds the first one's documented shape. */
function scheduleOf(value: Members): ScheduleDefinition {
  if (value.schedules === undefined) return singleScheduleOf(value);
  const schedules = list(value.schedules, 'schedules').map((item) =>
    singleScheduleOf(members(item, 'schedules[]')),
  );
  return { kind: 'set', schedules };
}

function singleScheduleOf(value: Members): SingleScheduleDefinition {
  if (value.cron !== undefined) {
    const documented =
      value.crontab !== undefined
        ? { crontab: crontabOf(value.crontab) }
        : { intervalSeconds: num(members(value.interval, 'interval'), 'every') };
    return { kind: 'cron', expression: text(value, 'cron'), documented };
  }
  if (value.clocked !== undefined) return { kind: 'clocked', at: decodeDatetime(value.clocked) };
  if (value.solar !== undefined) {
    const solar = members(value.solar, 'solar');
    return {
      kind: 'solar',
      event: text(solar, 'event') as SolarEvent,
      latitude: num(solar, 'lat'),
      longitude: num(solar, 'lon'),
      documented: { crontab: crontabOf(value.crontab) },
    };
  }
  if (value.interval !== undefined) {
    const interval = members(value.interval, 'interval');
    return {
      kind: 'interval',
      every: num(interval, 'every'),
      period: text(interval, 'period') as IntervalPeriod,
    };
  }
  const c = crontabOf(value.crontab);
  return {
    kind: 'crontab',
    minute: c.minute,
    hour: c.hour,
    dayOfWeek: c.day_of_week,
    dayOfMonth: c.day_of_month,
    monthOfYear: c.month_of_year,
  };
}

function crontabOf(raw: unknown): CeleryCrontabFields {
  const c = members(raw, 'crontab');
  return {
    minute: text(c, 'minute'),
    hour: text(c, 'hour'),
    day_of_week: text(c, 'day_of_week'),
    day_of_month: text(c, 'day_of_month'),
    month_of_year: text(c, 'month_of_year'),
  };
}

function exclusionOf(raw: unknown): ExclusionDefinition {
  const entry = members(raw, 'exclude[]');
  if (entry.date !== undefined) return { kind: 'date', date: text(entry, 'date') };
  const c = crontabOf(entry);
  return {
    kind: 'calendar',
    minute: c.minute,
    hour: c.hour,
    dayOfWeek: c.day_of_week,
    dayOfMonth: c.day_of_month,
    monthOfYear: c.month_of_year,
  };
}

/** The inverse of celeryOptions (task-record.ts): absent members are unset, no headers is none. */
function optionsOf(o: Members): TaskOptions {
  const options: TaskOptions = { queue: text(o, 'queue'), headers: {} };
  if (o.exchange !== undefined) options.exchange = text(o, 'exchange');
  if (o.routing_key !== undefined) options.routingKey = text(o, 'routing_key');
  if (o.priority !== undefined) options.priority = num(o, 'priority');
  if (o.expires !== undefined) options.expires = num(o, 'expires');
  if (o.headers !== undefined) options.headers = members(o.headers, 'options.headers');
  if (o.time_limit !== undefined) options.timeLimit = num(o, 'time_limit');
  if (o.soft_time_limit !== undefined) options.softTimeLimit = num(o, 'soft_time_limit');
  return options;
}

function text(o: Members, field: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new Error(`"${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Members, field: string): number {
  const v = o[field];
  if (typeof v !== 'number') throw new Error(`"${field}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function flag(o: Members, field: string): boolean {
  const v = o[field];
  if (typeof v !== 'boolean') throw new Error(`"${field}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf(o: Members, field: string, values: readonly string[]): string {
  const v = text(o, field);
  if (!values.includes(v)) throw new Error(`"${field}" must be one of ${values.join(', ')}, got "${v}"`);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`"${field}" must be a list`);
  return v;
}

function members(v: unknown, field: string): Members {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`"${field}" must be an object`);
  return v as Members;
}
