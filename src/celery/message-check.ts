// The last gate before a message reaches a broker. One malformed message can crash every Celery 5.2.6 worker
// that consumes its queue, and is then requeued to crash the next one (reference: the worker failure table),
// so anything a worker would reject or choke on is refused here with the reason, and never sent.

import { isPlainObject } from '../api/plain-object.ts';
import type { TaskMessage } from '../contracts.ts';
import { parseIsoHeader } from './iso-time.ts';

export type UnsafeReason = 'invalid' | 'expired';

/** A message that must not be sent: `reason` says whether it is malformed or merely already expired. */
export class UnsafeMessageError extends Error {
  readonly reason: UnsafeReason;
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[], reason: UnsafeReason = 'invalid') {
    const what = reason === 'expired' ? 'expired' : 'unsafe';
    super(`${what} Celery message for ${subject}, not sent: ${problems.join('; ')}`);
    this.name = 'UnsafeMessageError';
    this.reason = reason;
    this.problems = problems;
  }
}

/** Deeper JSON than this is refused: it is never needed for task arguments, and decoders have recursion limits. */
export const MAX_JSON_DEPTH = 100;

/**
 * Why `value` cannot travel as JSON to Python unchanged (NaN, Infinity, BigInt, undefined, functions, class
 * instances such as Date or Map, sparse arrays, lone surrogates, cycles), or undefined when it can. Too deep a
 * value is named by `root`, the path it was asked about: the path of its deepest part is thousands of characters.
 */
export function jsonProblem(value: unknown, path: string, depth = 0, root = path): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed() ? undefined : `${path} contains a lone UTF-16 surrogate (not valid UTF-8)`;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot carry`;
    case 'bigint':
      return `${path} is a BigInt, which JSON cannot carry`;
    case 'undefined':
      return `${path} is undefined, which JSON cannot carry`;
    case 'function':
    case 'symbol':
      return `${path} is a ${typeof value}, which JSON cannot carry`;
  }
  if (value === null) return undefined;
  if (depth >= MAX_JSON_DEPTH)
    return `${root} is nested deeper than ${MAX_JSON_DEPTH} levels (or is circular)`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return `${path}[${i}] is a hole in a sparse array`;
      const problem = jsonProblem(value[i], `${path}[${i}]`, depth + 1, root);
      if (problem) return problem;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    return `${path} is a ${name}, not a plain JSON object`;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const problem = jsonProblem(item, `${path}.${key}`, depth + 1, root);
    if (problem) return problem;
  }
  return undefined;
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function checkTime(headers: Record<string, unknown>, name: 'eta' | 'expires', problems: string[]): number {
  const value = headers[name];
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value !== 'string') {
    problems.push(`header ${name} must be an ISO-8601 string or null, got ${typeof value}`);
    return Number.NaN;
  }
  const at = parseIsoHeader(value);
  if (Number.isNaN(at)) problems.push(`header ${name} ${JSON.stringify(value)} is not an ISO-8601 time`);
  return at;
}

function checkHeaders(headers: Record<string, unknown>, problems: string[]): void {
  if (!nonEmptyString(headers.task))
    problems.push('header task (the registered task name) is missing or empty');
  if (!nonEmptyString(headers.id)) problems.push('header id (the task id) is missing or empty');
  if (headers.retries !== undefined && !Number.isSafeInteger(headers.retries)) {
    problems.push('header retries must be an integer');
  }
  const limits = headers.timelimit;
  if (limits !== undefined) {
    const valid =
      Array.isArray(limits) &&
      limits.length === 2 &&
      limits.every((l) => l === null || (typeof l === 'number' && Number.isFinite(l) && l > 0));
    if (!valid)
      problems.push('header timelimit must be [hard, soft], each a positive number of seconds or null');
  }
  for (const name of ['argsrepr', 'kwargsrepr'] as const) {
    if (headers[name] !== undefined && typeof headers[name] !== 'string')
      problems.push(`header ${name} must be a string`);
  }
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    // AMQP carries header names as short strings (at most 255 bytes).
    if (name.length === 0 || (name.length > 85 && Buffer.byteLength(name) > 255))
      problems.push(`header name ${JSON.stringify(name)} must be 1-255 bytes`);
    const value = headers[name];
    // Most headers are plain scalars: skip the general walk (and its path text) for them.
    if (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.isWellFormed())
    ) {
      continue;
    }
    const problem = jsonProblem(value, `header ${name}`);
    if (problem) problems.push(problem);
  }
}

function checkProperties(msg: TaskMessage, problems: string[]): void {
  const p = msg.properties;
  if (!nonEmptyString(p.correlation_id)) problems.push('property correlation_id is missing');
  if (typeof p.reply_to !== 'string') problems.push('property reply_to must be a string');
  if (p.delivery_mode !== 1 && p.delivery_mode !== 2) problems.push('property delivery_mode must be 1 or 2');
  if (!Number.isInteger(p.priority) || p.priority < 0 || p.priority > 255) {
    problems.push(`property priority ${p.priority} must be an integer 0-255`);
  }
  if (p.expiration !== undefined && !/^\d{1,15}$/.test(p.expiration)) {
    problems.push(
      `property expiration ${JSON.stringify(p.expiration)} must be a whole number of milliseconds`,
    );
  }
}

function checkBody(body: string, problems: string[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    problems.push(`body is not JSON (${(err as Error).message})`);
    return;
  }
  if (!body.isWellFormed()) problems.push('body contains a lone UTF-16 surrogate (not valid UTF-8)');
  if (!Array.isArray(parsed) || parsed.length !== 3) {
    problems.push('body must be the 3-element array [args, kwargs, embed]');
    return;
  }
  if (!Array.isArray(parsed[0])) problems.push('body args (element 0) must be a list');
  if (!isPlainObject(parsed[1])) problems.push('body kwargs (element 1) must be an object');
  if (!isPlainObject(parsed[2])) problems.push('body embed (element 2) must be an object');
}

/** Every problem that would make a Celery 5.x worker reject this message or crash on it (empty when it is safe). */
export function taskMessageProblems(
  msg: TaskMessage,
  now: number = Date.now(),
): { problems: string[]; expired: boolean } {
  const problems: string[] = [];
  if (msg.contentType !== 'application/json') {
    problems.push(`content type must be exactly application/json, got ${JSON.stringify(msg.contentType)}`);
  }
  if (msg.contentEncoding !== 'utf-8')
    problems.push(`content encoding must be utf-8, got ${JSON.stringify(msg.contentEncoding)}`);
  let expired = false;
  if (!isPlainObject(msg.headers)) {
    problems.push('headers must be an object');
  } else {
    checkHeaders(msg.headers, problems);
    checkTime(msg.headers, 'eta', problems);
    const expiresAt = checkTime(msg.headers, 'expires', problems);
    expired = expiresAt <= now;
  }
  if (!isPlainObject(msg.properties)) problems.push('properties must be an object');
  else checkProperties(msg, problems);
  if (typeof msg.body !== 'string') problems.push('body must be JSON text');
  else checkBody(msg.body, problems);
  return { problems, expired };
}

function subjectOf(msg: TaskMessage): string {
  const h = isPlainObject(msg.headers) ? msg.headers : {};
  const name = typeof h.periodic_task_name === 'string' ? ` of ${h.periodic_task_name}` : '';
  return `task ${String(h.task)}[${String(h.id)}]${name}`;
}

/**
 * Throws UnsafeMessageError unless a worker would accept and run the message: reason `invalid` for a malformed
 * message, `expired` for a well-formed one whose `expires` has passed (a worker would discard it unrun).
 */
export function checkTaskMessage(msg: TaskMessage, now: number = Date.now()): void {
  const { problems, expired } = taskMessageProblems(msg, now);
  if (problems.length > 0) throw new UnsafeMessageError(subjectOf(msg), problems, 'invalid');
  if (expired) {
    throw new UnsafeMessageError(subjectOf(msg), [`it expired at ${String(msg.headers.expires)}`], 'expired');
  }
}
