// Celery task protocol v2 messages, transport-neutral: the headers, properties and body a Celery 5.x client
// sends, plus the operator's own headers (`periodic_task_name`, `periodic_task_scheduled_at`,
// `periodic_task_namespace`, `original_periodic_task_name`). The transports only wrap this.
import { hostname } from 'node:os';
import type { TaskOptions } from '../api/types.ts';
import type { TaskMessage, TaskMessageProperties } from '../contracts.ts';
import { pythonIsoUtc } from './iso-time.ts';
import { checkTaskMessage, jsonProblem, UnsafeMessageError } from './message-check.ts';
import { celerySaferepr } from './python-repr.ts';

/**
 * Headers Celery itself fills (5.2 and the 5.3+ additions) and those this operator adds: the task's identity,
 * which task code may trust because no user header can replace it.
 */
export const PROTOCOL_HEADERS: readonly string[] = [
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
  'replaced_task_nesting',
  'stamped_headers',
  'stamps',
  'periodic_task_name',
  'periodic_task_scheduled_at',
  'periodic_task_namespace',
  'original_periodic_task_name',
];

/**
 * User headers may not use these names. Celery would let a user header replace `id` or `task` (it merges user
 * headers last); here that is refused instead, because a replaced id breaks per-slot de-duplication and a
 * replaced `task`, `eta` or `expires` changes what runs and when.
 */
export const RESERVED_TASK_HEADERS: ReadonlySet<string> = new Set(PROTOCOL_HEADERS);

export interface TaskMessageInput {
  task: string;
  id: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: TaskOptions;
  /** The slot this run belongs to, epoch ms; `expires` counts from here. */
  scheduledAt: number;
  /** `<namespace>/<name>` of the PeriodicTask. */
  periodicTaskName: string;
  /** The PeriodicTask's namespace ("" for a hand-written Redis key): `periodic_task_namespace`. */
  namespace: string;
  /** The schedule's name where it was imported from (`celerybeat.io/original-name`): `original_periodic_task_name`. */
  originalName?: string;
  /** Default `celerybeat-operator@<hostname>`. */
  origin?: string;
  /** The clock for the `expiration` property; default Date.now(). */
  now?: number;
}

const EMBED = { callbacks: null, errbacks: null, chain: null, chord: null };

let defaultOrigin: string | undefined;

function originName(): string {
  defaultOrigin ??= `celerybeat-operator@${hostname()}`;
  return defaultOrigin;
}

function inputProblems(input: TaskMessageInput): string[] {
  const problems: string[] = [];
  const { options } = input;
  if (!Array.isArray(input.args)) problems.push('args must be a list');
  else {
    const p = jsonProblem(input.args, 'args');
    if (p) problems.push(p);
  }
  if (typeof input.kwargs !== 'object' || input.kwargs === null || Array.isArray(input.kwargs)) {
    problems.push('kwargs must be an object');
  } else {
    const p = jsonProblem(input.kwargs, 'kwargs');
    if (p) problems.push(p);
  }
  if (!Number.isFinite(input.scheduledAt)) problems.push(`scheduledAt ${input.scheduledAt} is not a time`);
  for (const name of Object.keys(options.headers ?? {})) {
    if (RESERVED_TASK_HEADERS.has(name))
      problems.push(`options.headers.${name} would replace a protocol header`);
  }
  if (options.expires !== undefined && !(Number.isFinite(options.expires) && options.expires >= 0)) {
    problems.push(`options.expires ${options.expires} must be a number of seconds >= 0`);
  }
  return problems;
}

/**
 * Builds the protocol-v2 message of one run. Throws UnsafeMessageError when the input cannot make a valid one
 * (`reason: 'invalid'`) or when the run's expiry has already passed (`reason: 'expired'`).
 */
export function buildTaskMessage(input: TaskMessageInput): TaskMessage {
  const problems = inputProblems(input);
  if (problems.length > 0) {
    throw new UnsafeMessageError(`task ${input.task}[${input.id}] of ${input.periodicTaskName}`, problems);
  }
  const { options } = input;
  const expiresAt = options.expires === undefined ? undefined : input.scheduledAt + options.expires * 1000;
  // Celery's order of headers, then user headers, then ours (names that collide were refused above).
  const headers: Record<string, unknown> = {
    lang: 'py',
    task: input.task,
    id: input.id,
    shadow: null,
    eta: null,
    expires: expiresAt === undefined ? null : pythonIsoUtc(expiresAt),
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [options.timeLimit ?? null, options.softTimeLimit ?? null],
    root_id: input.id,
    parent_id: null,
    argsrepr: celerySaferepr(input.args),
    kwargsrepr: celerySaferepr(input.kwargs),
    origin: input.origin ?? originName(),
    ignore_result: false,
    ...options.headers,
    periodic_task_name: input.periodicTaskName,
    periodic_task_scheduled_at: pythonIsoUtc(input.scheduledAt),
    periodic_task_namespace: input.namespace,
    ...(input.originalName === undefined ? {} : { original_periodic_task_name: input.originalName }),
  };
  const properties: TaskMessageProperties = {
    correlation_id: input.id,
    reply_to: '',
    delivery_mode: 2,
    priority: options.priority ?? 0,
  };
  const now = input.now ?? Date.now();
  if (expiresAt !== undefined) {
    // Celery sends the remaining time, clamped at 0 when the expiry has passed.
    properties.expiration = String(Math.max(0, Math.floor(expiresAt - now)));
  }
  const message: TaskMessage = {
    headers,
    properties,
    body: JSON.stringify([input.args, input.kwargs, EMBED]),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
  };
  // Checked here too, so a run that has already expired (or anything unsafe) is known when it is planned; the
  // transports check again right before sending.
  checkTaskMessage(message, now);
  return message;
}

/** The namespace a message was built for (its `periodic_task_namespace` header): what its broker is chosen by. */
export function namespaceOfMessage(message: TaskMessage): string {
  const namespace = message.headers.periodic_task_namespace;
  return typeof namespace === 'string' ? namespace : '';
}
