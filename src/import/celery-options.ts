// Celery `apply_async` options (a beat_schedule entry's `options`, a RedBeat definition's `options`) as a
// PeriodicTask's `options`. An option with no PeriodicTask field is reported rather than dropped: it
// changed how the task ran.
import { isPlainObject } from '../api/plain-object.ts';
import type { TaskOptionsSpec } from '../api/types.ts';
import { UnsupportedError } from './source-entry.ts';

const MAPPED: Readonly<Record<string, keyof TaskOptionsSpec>> = {
  queue: 'queue',
  exchange: 'exchange',
  routing_key: 'routingKey',
  priority: 'priority',
  expires: 'expires',
  headers: 'headers',
  time_limit: 'timeLimit',
  soft_time_limit: 'softTimeLimit',
};

export function celeryOptions(options: unknown): TaskOptionsSpec | undefined {
  if (options === undefined || options === null) return undefined;
  if (!isPlainObject(options))
    throw new UnsupportedError(`options must be a mapping, got ${describe(options)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === null || value === undefined) continue;
    const field = Object.hasOwn(MAPPED, key) ? MAPPED[key] : undefined;
    if (field === undefined) throw new UnsupportedError(`option "${key}" has no PeriodicTask equivalent`);
    if (key === 'expires' && typeof value !== 'number') {
      // A fixed expiry instant cannot be had: the operator's expires counts from each run's slot.
      throw new UnsupportedError(`option "expires" must be a number of seconds, got ${describe(value)}`);
    }
    out[field] = value;
  }
  return Object.keys(out).length > 0 ? (out as TaskOptionsSpec) : undefined;
}

/** A value as a message shows it: JSON, or the Python object the reader could not turn into JSON. */
export function describe(value: unknown): string {
  if (isPlainObject(value) && typeof value.__python__ === 'string') return `a Python ${value.__python__}`;
  return JSON.stringify(value) ?? String(value);
}
