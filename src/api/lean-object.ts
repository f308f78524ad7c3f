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

/** A string as held: one shared instance for the shared fields, else flat when asked. */
function leanString(value: string, field: string | undefined, flatten: boolean): string {
  const held = field !== undefined && SHARED_FIELDS.has(field) ? shared.get(value, flatString) : undefined;
  return held ?? (flatten ? flatString(value) : value);
}

type Container = unknown[] | Record<string, unknown>;

/**
 * The copy of one member: a string or scalar as held, or an empty container of the right kind, queued to be
 * filled. Iterative, not recursive: a user's args may nest as deep as the API server lets them (thousands of
 * levels), deeper than the stack.
 */
function member(
  value: unknown,
  field: string | undefined,
  flatten: boolean,
  queue: [Container, Container][],
) {
  if (typeof value === 'string') return leanString(value, field, flatten);
  if (Array.isArray(value)) {
    // slice: an array of exactly its length (a YAML parser leaves room for more).
    const out = value.slice();
    queue.push([value, out]);
    return out;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    queue.push([value, out]);
    return out;
  }
  return value;
}

function copy(value: unknown, flatten: boolean): unknown {
  const queue: [Container, Container][] = [];
  const root = member(value, undefined, flatten, queue);
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const [source, target] = next;
    if (Array.isArray(source)) {
      const out = target as unknown[];
      for (let i = 0; i < source.length; i++) out[i] = member(source[i], undefined, flatten, queue);
    } else {
      const out = target as Record<string, unknown>;
      for (const key of Object.keys(source)) out[key] = member(source[key], key, flatten, queue);
    }
  }
  return root;
}

/**
 * A deep copy of a JSON-like value (other objects, such as dates, are kept as they are) in less memory.
 * `flatten` copies every string flat: for a YAML parser's output, whose strings are ropes of their pieces (a
 * JSON parser's are flat already).
 */
export function leanCopy<T>(value: T, options: { flatten?: boolean } = {}): T {
  return copy(value, options.flatten === true) as T;
}
