// A resource as a cache holds it for its whole life (the informer's, the manifest directory's): at 100,000 tasks
// every byte per object is 100 KB. Arrays are copied at their length (a YAML parser leaves room for 16
// elements: 150 bytes for `args: [1]`), and the values that repeat across tasks (apiVersion, kind, namespace,
// the task name, the queue, the time zone, the period…) are held once instead of once per object.
import { SharedStrings } from './shared-strings.ts';

/** Fields whose values are few across all tasks. */
const SHARED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'task',
  'queue',
  'exchange',
  'routingKey',
  'timeZone',
  'period',
  'minute',
  'hour',
  'dayOfWeek',
  'dayOfMonth',
  'monthOfYear',
  'concurrencyPolicy',
]);

/** Bounds the table: values of those fields that are all different (one queue per task) stop being shared. */
const shared = new SharedStrings(4096);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function flatString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

function copy(value: unknown, field: string | undefined, flatten: boolean): unknown {
  if (typeof value === 'string') {
    const held = field !== undefined && SHARED_FIELDS.has(field) ? shared.get(value, flatString) : undefined;
    return held ?? (flatten ? flatString(value) : value);
  }
  if (Array.isArray(value)) return value.map((item: unknown) => copy(item, undefined, flatten));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = copy(item, key, flatten);
    return out;
  }
  return value;
}

/**
 * A deep copy of a JSON-like value (other objects, such as dates, are kept as they are) in less memory.
 * `flatten` copies every string flat: for a YAML parser's output, whose strings are ropes of their pieces (a
 * JSON parser's are flat already).
 */
export function leanCopy<T>(value: T, options: { flatten?: boolean } = {}): T {
  return copy(value, undefined, options.flatten === true) as T;
}
