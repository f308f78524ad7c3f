// The Redis value of one task: celerybeat-redis's documented (README) shape plus the operator's extras.
//
// The value is one JSON object whose last members are always the run state, written by this module as the
// "run-state tail": `,"last_run_at":…,"total_run_count":…,"last_task_id":…,"last_task_slot":…,
// "missed_run_count":…}`, then the operator's own members, each written only once it is not zero or set (so a
// tail written before a member existed reads and re-encodes as the same text). The Lua scripts compare and replace that tail as text, so the definition
// written by the reconciler and the run state written by the dispatcher never overwrite each other and
// no script has to re-encode user JSON (Redis' cjson would turn an empty args list into an object).
import type { ExclusionDefinition, SingleScheduleDefinition, TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type { ConsecutiveFailures, Owner, RunState } from '../contracts.ts';
import { decodeDatetime, encodeDatetime } from './datetime.ts';

/** Marks the start of the run-state tail; the last occurrence in a value is the real one. */
export const TAIL_MARKER = ',"last_run_at":';

export function encodeRunStateTail(state: RunState): string {
  return (
    `${TAIL_MARKER}${JSON.stringify(encodeDatetime(state.cursor))}` +
    `,"total_run_count":${state.totalRunCount}` +
    `,"last_task_id":${JSON.stringify(state.lastTaskId)}` +
    `,"last_task_slot":${state.lastTaskSlot === null ? 'null' : JSON.stringify(encodeDatetime(state.lastTaskSlot))}` +
    `,"missed_run_count":${state.missedRunCount}` +
    operatorCounters(state) +
    '}'
  );
}

// ── the operator's members after missed_run_count, absent while zero or unset ──────────────────────────────

/**
 * In this order, which settle-manual-claim-1.lua keeps when it adds "unknown_run_count" right after
 * "missed_run_count": publishes of unknown outcome, slots accounted for inside a pause, and a publish under
 * way (its task id and claim time).
 */
function operatorCounters(state: RunState): string {
  return (
    (state.unknownRunCount ? `,"unknown_run_count":${state.unknownRunCount}` : '') +
    (state.pausedRunCount === 0 ? '' : `,"paused_run_count":${state.pausedRunCount}`) +
    (state.publishing === undefined
      ? ''
      : `,"publishing":{"task_id":${JSON.stringify(state.publishing.taskId)},"since":${Math.round(state.publishing.since)}}`) +
    failureMembers(state)
  );
}

/**
 * spec.pauseAfterFailures: the failures in a row (their count, the newest run's slot in epoch ms, its task id
 * and exception type), and the last resume applied (epoch ms).
 */
function failureMembers(state: RunState): string {
  const f = state.failures;
  const failures =
    f === undefined
      ? ''
      : `,"consecutive_failures":{"count":${f.count},"slot":${Math.round(f.slot)},"task_id":${JSON.stringify(f.taskId)}` +
        `${f.exception === undefined ? '' : `,"exception":${JSON.stringify(f.exception)}`}}`;
  return failures + (state.resumedAt === undefined ? '' : `,"resumed_at":${Math.round(state.resumedAt)}`);
}

function failuresOf(raw: unknown): ConsecutiveFailures {
  const { count, slot, task_id: taskId, exception } = (raw ?? {}) as Record<string, unknown>;
  if (
    typeof count !== 'number' ||
    !Number.isInteger(count) ||
    count < 0 ||
    typeof slot !== 'number' ||
    typeof taskId !== 'string' ||
    (exception !== undefined && typeof exception !== 'string')
  ) {
    throw new Error(
      `"consecutive_failures" must be {"count", "slot", "task_id"[, "exception"]}, got ${JSON.stringify(raw)}`,
    );
  }
  return { count, slot, taskId, ...(exception === undefined ? {} : { exception }) };
}

export function decodeRunStateTail(tail: string): RunState {
  if (!tail.startsWith(TAIL_MARKER)) throw new Error('run-state tail does not start with "last_run_at"');
  const parsed = JSON.parse(`{${tail.slice(1)}`) as Record<string, unknown>;
  return runStateOf(parsed);
}

function runStateOf(value: Record<string, unknown>): RunState {
  const count = (field: string): number => {
    const raw = value[field] ?? 0;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
      throw new Error(`"${field}" must be a non-negative integer, got ${JSON.stringify(raw)}`);
    }
    return raw;
  };
  const lastTaskId = value.last_task_id ?? null;
  if (lastTaskId !== null && typeof lastTaskId !== 'string') {
    throw new Error(`"last_task_id" must be a string or null, got ${JSON.stringify(lastTaskId)}`);
  }
  const state: RunState = {
    cursor: decodeDatetime(value.last_run_at),
    totalRunCount: count('total_run_count'),
    lastTaskId,
    lastTaskSlot: value.last_task_slot == null ? null : decodeDatetime(value.last_task_slot),
    missedRunCount: count('missed_run_count'),
    pausedRunCount: count('paused_run_count'),
  };
  const unknown = count('unknown_run_count');
  if (unknown > 0) state.unknownRunCount = unknown;
  if (value.publishing != null) {
    const { task_id: taskId, since } = value.publishing as Record<string, unknown>;
    if (typeof taskId !== 'string' || typeof since !== 'number') {
      throw new Error(`"publishing" must be {"task_id", "since"}, got ${JSON.stringify(value.publishing)}`);
    }
    state.publishing = { taskId, since };
  }
  if (value.consecutive_failures != null) state.failures = failuresOf(value.consecutive_failures);
  if (value.resumed_at != null) {
    if (typeof value.resumed_at !== 'number')
      throw new Error(`"resumed_at" must be epoch milliseconds, got ${JSON.stringify(value.resumed_at)}`);
    state.resumedAt = value.resumed_at;
  }
  return state;
}

function scheduleFields(def: TaskDefinition): Record<string, unknown> {
  const s = def.schedule;
  if (s.kind !== 'set') return singleScheduleFields(s);
  // Several schedules have no celerybeat-redis shape: a reader of the documented kinds gets the first one's
  // (its `interval` or `crontab`), and `schedules` lists them all exactly.
  const first = singleScheduleFields(s.schedules[0]!);
  const documented = 'interval' in first ? { interval: first.interval } : { crontab: first.crontab };
  return { ...documented, schedules: s.schedules.map(exactScheduleFields) };
}

/**
 * One schedule of a set in its exact form, each kind under its own name (first); a `cron` or a `solar` with its
 * documented reading after it, as at the top level, so that the key alone gives the whole definition back.
 */
function exactScheduleFields(s: SingleScheduleDefinition): Record<string, unknown> {
  const fields = singleScheduleFields(s);
  switch (s.kind) {
    case 'interval':
      return { interval: fields.interval };
    case 'crontab':
      return { crontab: fields.crontab };
    case 'clocked':
      return { clocked: fields.clocked };
    case 'cron': {
      const { cron, ...documented } = fields;
      return { cron, ...documented };
    }
    case 'solar': {
      const { solar, ...documented } = fields;
      return { solar, ...documented };
    }
  }
}

/** spec.exclude under its own name: dates as written, calendars with celerybeat-redis's crontab names. */
function exclusionFields(exclude: readonly ExclusionDefinition[]): Record<string, unknown>[] {
  return exclude.map((e) =>
    e.kind === 'date'
      ? { date: e.date }
      : {
          minute: e.minute,
          hour: e.hour,
          day_of_week: e.dayOfWeek,
          day_of_month: e.dayOfMonth,
          month_of_year: e.monthOfYear,
        },
  );
}

function singleScheduleFields(s: SingleScheduleDefinition): Record<string, unknown> {
  switch (s.kind) {
    case 'interval':
      return { interval: { every: s.every, period: s.period } };
    case 'crontab':
      return {
        crontab: {
          minute: s.minute,
          hour: s.hour,
          day_of_week: s.dayOfWeek,
          day_of_month: s.dayOfMonth,
          month_of_year: s.monthOfYear,
        },
      };
    case 'cron': {
      // The documented kinds first, so that a reader of celerybeat-redis's format loads the key; `cron` keeps the
      // exact string.
      const d = s.documented;
      const documented =
        'crontab' in d
          ? { crontab: d.crontab }
          : { interval: { every: d.intervalSeconds, period: 'seconds' } };
      return { ...documented, cron: s.expression };
    }
    case 'clocked':
      // A reader of celerybeat-redis's documented format knows only interval and crontab, and its loader fails the
      // whole schedule on a key with neither: a clocked task is also written as the crontab of its minute
      // (UTC), which such a reader runs at the right moment. `clocked` keeps the exact instant.
      return { crontab: instantCrontab(s.at), clocked: encodeDatetime(s.at) };
    case 'solar':
      // The same rule: the daily crontab of the event's time at the equinox (mean solar time, UTC) for readers
      // of the documented kinds, and `solar` with Celery's own arguments (`solar(event, lat, lon)`).
      return {
        crontab: s.documented.crontab,
        solar: { event: s.event, lat: s.latitude, lon: s.longitude },
      };
  }
}

function instantCrontab(at: number): Record<string, string> {
  const d = new Date(at);
  return {
    minute: String(d.getUTCMinutes()),
    hour: String(d.getUTCHours()),
    day_of_week: '*',
    day_of_month: String(d.getUTCDate()),
    month_of_year: String(d.getUTCMonth() + 1),
  };
}

/** Celery apply_async keyword arguments, as a Python reader would pass them on. */
export function celeryOptions(def: TaskDefinition): Record<string, unknown> {
  const o = def.options;
  const options: Record<string, unknown> = { queue: o.queue };
  if (o.exchange !== undefined) options.exchange = o.exchange;
  if (o.routingKey !== undefined) options.routing_key = o.routingKey;
  if (o.priority !== undefined) options.priority = o.priority;
  if (o.expires !== undefined) options.expires = o.expires;
  if (Object.keys(o.headers).length > 0) options.headers = o.headers;
  if (o.timeLimit !== undefined) options.time_limit = o.timeLimit;
  if (o.softTimeLimit !== undefined) options.soft_time_limit = o.softTimeLimit;
  return options;
}

/**
 * The definition part of the value: everything but the run-state tail, without the closing brace.
 * `operator` is the id of the operator that owns the key.
 */
export function encodeDefinitionHead(def: TaskDefinition, operator: string): string {
  const options = celeryOptions(def);
  const record: Record<string, unknown> = {
    name: taskKey(def.namespace, def.name),
    task: def.task,
    enabled: def.enabled,
    ...scheduleFields(def),
    args: def.args,
    kwargs: def.kwargs,
    queue: def.options.queue,
  };
  for (const field of ['exchange', 'routing_key', 'expires'] as const) {
    if (options[field] !== undefined) record[field] = options[field];
  }
  record.options = options;
  record.timezone = def.timeZone;
  if (def.description !== undefined) record.description = def.description;
  if (def.startTime !== undefined) record.start_time = encodeDatetime(def.startTime);
  if (def.startingDeadlineSeconds !== undefined)
    record.starting_deadline_seconds = def.startingDeadlineSeconds;
  record.one_off = def.oneOff;
  // The run limits have no celerybeat-redis shape: the exact values under their own names, as for start_time.
  if (def.endTime !== undefined) record.end_time = encodeDatetime(def.endTime);
  if (def.maxRuns !== undefined) record.max_runs = def.maxRuns;
  if (def.catchUp !== undefined) record.catch_up = def.catchUp;
  if (def.exclude !== undefined) record.exclude = exclusionFields(def.exclude);
  // What a new leader needs to dispatch from the key before its source has read the resource
  // (stored-definition.ts): the rest of the definition, under the operator's own names.
  if (def.pause !== undefined) {
    const { reason, until } = def.pause;
    record.pause = until === undefined ? { reason } : { reason, until: encodeDatetime(until) };
  }
  if (def.jitterMs !== undefined) record.jitter_ms = def.jitterMs;
  if (def.concurrencyPolicy !== undefined) record.concurrency_policy = def.concurrencyPolicy;
  if (def.originalName !== undefined) record.original_name = def.originalName;
  if (def.pauseAfterFailures !== undefined) record.pause_after_failures = def.pauseAfterFailures;
  record.generation = def.generation;
  record.owner = { namespace: def.namespace, name: def.name, uid: def.uid, operator } satisfies Owner;
  const json = JSON.stringify(record);
  return json.slice(0, -1);
}

export function encodeTaskValue(def: TaskDefinition, state: RunState, operator: string): string {
  return encodeDefinitionHead(def, operator) + encodeRunStateTail(state);
}

/** What the operator reads back from a key: the owner (if any) and the run state. */
export interface StoredTask {
  owner: Owner | null;
  runState: RunState | null;
}

/** Decodes a stored value; throws with the reason when it is not valid JSON or not an object. */
export function decodeTaskValue(raw: string): StoredTask {
  const { owner, runState } = decodeTaskMembers(raw);
  return { owner, runState };
}

/** As decodeTaskValue, with the value's members for a reader of the definition (stored-definition.ts). */
export function decodeTaskMembers(raw: string): StoredTask & { members: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`value is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('value is not a JSON object');
  }
  const value = parsed as Record<string, unknown>;
  const owner = ownerOf(value.owner);
  let runState: RunState | null = null;
  // A hand-written key's run state may be in forms the operator's own keys never use (an ISO string):
  // hand-written-state.ts reads those.
  if (owner && value.last_run_at != null) runState = runStateOf(value);
  return { owner, runState, members: value };
}

function ownerOf(raw: unknown): Owner | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { namespace, name, uid, operator } = raw as Record<string, unknown>;
  if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string') return null;
  if (operator === undefined) return { namespace, name, uid };
  // An id that is not a string names no operator: no operator may change the key (as the scripts decide).
  return typeof operator === 'string' ? { namespace, name, uid, operator } : null;
}
