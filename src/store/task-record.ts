// The Redis value of one task: celerybeat-redis's documented (README) shape plus the operator's extras.
//
// The value is one JSON object whose last members are always the run state, written by this module as the
// "run-state tail": `,"last_run_at":…,"total_run_count":…,"last_task_id":…,"last_task_slot":…,
// "missed_run_count":…}`. The Lua scripts compare and replace that tail as text, so the definition
// written by the reconciler and the run state written by the dispatcher never overwrite each other and
// no script has to re-encode user JSON (Redis' cjson would turn an empty args list into an object).
import type { TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type { Owner, RunState } from '../contracts.ts';
import { decodeDatetime, encodeDatetime } from './datetime.ts';

/** Marks the start of the run-state tail; the last occurrence in a value is the real one. */
export const TAIL_MARKER = ',"last_run_at":';

export function encodeRunStateTail(state: RunState): string {
  return (
    `${TAIL_MARKER}${JSON.stringify(encodeDatetime(state.cursor))}` +
    `,"total_run_count":${state.totalRunCount}` +
    `,"last_task_id":${JSON.stringify(state.lastTaskId)}` +
    `,"last_task_slot":${state.lastTaskSlot === null ? 'null' : JSON.stringify(encodeDatetime(state.lastTaskSlot))}` +
    `,"missed_run_count":${state.missedRunCount}}`
  );
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
  return {
    cursor: decodeDatetime(value.last_run_at),
    totalRunCount: count('total_run_count'),
    lastTaskId,
    lastTaskSlot: value.last_task_slot == null ? null : decodeDatetime(value.last_task_slot),
    missedRunCount: count('missed_run_count'),
  };
}

function scheduleFields(def: TaskDefinition): Record<string, unknown> {
  const s = def.schedule;
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
    case 'clocked':
      // A reader of celerybeat-redis's documented format knows only interval and crontab, and its loader fails the
      // whole schedule on a key with neither: a clocked task is also written as the crontab of its minute
      // (UTC), which such a reader runs at the right moment. `clocked` keeps the exact instant.
      return { crontab: instantCrontab(s.at), clocked: encodeDatetime(s.at) };
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

/** The definition part of the value: everything but the run-state tail, without the closing brace. */
export function encodeDefinitionHead(def: TaskDefinition): string {
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
  record.owner = { namespace: def.namespace, name: def.name, uid: def.uid } satisfies Owner;
  const json = JSON.stringify(record);
  return json.slice(0, -1);
}

export function encodeTaskValue(def: TaskDefinition, state: RunState): string {
  return encodeDefinitionHead(def) + encodeRunStateTail(state);
}

/** What the operator reads back from a key: the owner (if any) and the run state. */
export interface StoredTask {
  owner: Owner | null;
  runState: RunState | null;
}

/** Decodes a stored value; throws with the reason when it is not valid JSON or not an object. */
export function decodeTaskValue(raw: string): StoredTask {
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
  return { owner, runState };
}

function ownerOf(raw: unknown): Owner | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { namespace, name, uid } = raw as Record<string, unknown>;
  if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string') return null;
  return { namespace, name, uid };
}
