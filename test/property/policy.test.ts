// What the policy evaluator lets through satisfies the policy: for generated policies (two on the task's
// namespace, one on another) and generated tasks, every task it accepts builds messages that are checked
// here against each policy of the namespace from the message alone — the task header, the routing, the
// priority property, the user headers, the body's JSON, the slots' spacing — with matchers written apart
// from the evaluator's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PeriodicTaskPolicy, PeriodicTaskPolicySpec, TaskDefinition } from '../../src/api/types.ts';
import { buildTaskMessage, PROTOCOL_HEADERS } from '../../src/celery/message.ts';
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import type { PolicySource, TaskMessage } from '../../src/contracts.ts';
import { PolicyBook } from '../../src/policy/policy-book.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { check } from './fc-config.ts';
import { type Json, jsonValue, REFERENCE_MS } from './spec-arbitrary.ts';

const FILE = 'test/property/policy.test.ts';

const TASKS = ['app.report', 'app.admin.drop', 'celery.backend_cleanup', 'team.a.sync', 'x'];
const QUEUES = ['celery', 'team-a', 'team-a.low', 'team-b', 'q.x'];
const HEADERS = ['tenant', 'trace_id', 'trace_parent', 'x'];
const PATTERNS = [
  '*',
  'app.*',
  'app.report',
  'celery.*',
  'team*',
  'team-a*',
  '*.low',
  'trace_*',
  'a*b*c',
  'x',
];

const patterns = fc.array(fc.constantFrom(...PATTERNS), { maxLength: 3 });
/** A rule is set in about one policy of six, so that some tasks comply with two policies at once. */
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: a, weight: 1 });

const policySpec: fc.Arbitrary<PeriodicTaskPolicySpec> = fc
  .record({
    allowedTaskNames: maybe(patterns),
    deniedTaskNames: maybe(patterns),
    allowedQueues: maybe(patterns),
    allowedExchanges: maybe(patterns),
    allowedRoutingKeys: maybe(patterns),
    maxPriority: maybe(fc.integer({ min: 0, max: 9 })),
    allowedHeaders: maybe(patterns),
    maxArgsBytes: maybe(fc.integer({ min: 0, max: 200 })),
    maxKwargsBytes: maybe(fc.integer({ min: 0, max: 200 })),
    maxHeadersBytes: maybe(fc.integer({ min: 0, max: 200 })),
    maxJsonDepth: maybe(fc.integer({ min: 1, max: 4 })),
    minIntervalSeconds: maybe(fc.constantFrom(0, 1, 30, 60, 300, 3600)),
    allowReplace: maybe(fc.boolean()),
  })
  .map((r) => {
    const spec: PeriodicTaskPolicySpec = { namespaceSelector: {} };
    for (const [k, v] of Object.entries(r)) if (v !== undefined) Object.assign(spec, { [k]: v });
    return spec;
  });

const schedule = fc.oneof(
  fc.record({
    interval: fc.record({
      every: fc.integer({ min: 1, max: 120 }),
      period: fc.constantFrom('seconds', 'minutes', 'hours'),
    }),
  }),
  fc.record({
    crontab: fc.record({
      minute: fc.constantFrom('*', '*/5', '0', '0,30', '10,50', '*/20'),
      hour: fc.constantFrom('*', '3', '3,4', '1,23', '9-17'),
    }),
  }),
  fc.record({ cron: fc.constantFrom('@every 45s', '*/10 * * * *', '0 9 * * 1-5', '@hourly') }),
);

const taskSpec = fc.record({
  task: fc.constantFrom(...TASKS),
  schedule,
  args: fc.array(jsonValue, { maxLength: 3 }),
  kwargs: fc.dictionary(fc.constantFrom('a', 'b', 'c'), jsonValue, { maxKeys: 2 }),
  queue: fc.constantFrom(...QUEUES),
  exchange: maybe(fc.constantFrom('team-a', 'team-b', 'x')),
  routingKey: maybe(fc.constantFrom('team-a.low', 'b', 'x')),
  priority: maybe(fc.integer({ min: 0, max: 9 })),
  headers: fc.dictionary(fc.constantFrom(...HEADERS), jsonValue, { maxKeys: 2 }),
  replace: fc.boolean(),
});

type TaskSpec = typeof taskSpec extends fc.Arbitrary<infer T> ? T : never;

function definitionOf(t: TaskSpec): TaskDefinition | undefined {
  const result = validatePeriodicTask(
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: 'p', namespace: 'team-a', uid: 'u' },
      spec: {
        task: t.task,
        ...t.schedule,
        timeZone: 'UTC',
        args: t.args,
        kwargs: t.kwargs,
        options: {
          queue: t.queue,
          ...(t.exchange === undefined ? {} : { exchange: t.exchange }),
          ...(t.routingKey === undefined ? {} : { routingKey: t.routingKey }),
          ...(t.priority === undefined ? {} : { priority: t.priority }),
          headers: t.headers,
        },
        ...(t.replace ? { concurrencyPolicy: 'Replace' } : {}),
      },
    },
    { defaultTimeZone: 'UTC', resultBackend: true },
  );
  return result.ok ? result.definition : undefined;
}

/** A pattern as a regular expression: every character itself, `*` any run. */
function patternRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${escaped}$`);
}
const allowedBy = (list: readonly string[] | undefined, value: string) =>
  list === undefined || list.some((p) => patternRegExp(p).test(value));

function depth(value: Json): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depth));
}

/** The message, as a worker would receive it, against one policy. */
function messageProblems(
  spec: PeriodicTaskPolicySpec,
  message: TaskMessage,
  routing: { queue: string; exchange?: string; routingKey?: string },
): string[] {
  const problems: string[] = [];
  const task = String(message.headers.task);
  if (!allowedBy(spec.allowedTaskNames, task)) problems.push(`task ${task} not allowed`);
  if (spec.deniedTaskNames?.some((p) => patternRegExp(p).test(task))) problems.push(`task ${task} denied`);
  if (!allowedBy(spec.allowedQueues, routing.queue)) problems.push(`queue ${routing.queue}`);
  if (routing.exchange !== undefined && !allowedBy(spec.allowedExchanges, routing.exchange))
    problems.push(`exchange ${routing.exchange}`);
  if (routing.routingKey !== undefined && !allowedBy(spec.allowedRoutingKeys, routing.routingKey))
    problems.push(`routing key ${routing.routingKey}`);
  if (spec.maxPriority !== undefined && message.properties.priority > spec.maxPriority)
    problems.push(`priority ${message.properties.priority}`);
  const userHeaders = Object.fromEntries(
    Object.entries(message.headers).filter(([name]) => !PROTOCOL_HEADERS.includes(name)),
  ) as Record<string, Json>;
  for (const name of Object.keys(userHeaders))
    if (!allowedBy(spec.allowedHeaders, name)) problems.push(`header ${name}`);
  const [args, kwargs] = JSON.parse(message.body) as [Json[], Record<string, Json>];
  const bytes = (v: Json) => new TextEncoder().encode(JSON.stringify(v)).length;
  for (const [what, value, max] of [
    ['args', args, spec.maxArgsBytes],
    ['kwargs', kwargs, spec.maxKwargsBytes],
    ['headers', userHeaders, spec.maxHeadersBytes],
  ] as const) {
    if (max !== undefined && bytes(value) > max) problems.push(`${what} ${bytes(value)} bytes`);
    if (spec.maxJsonDepth !== undefined && depth(value) > spec.maxJsonDepth) problems.push(`${what} depth`);
  }
  return problems;
}

/** The first 300 slots after the reference time, in UTC, all at least the minimum apart. */
function spacingProblem(def: TaskDefinition, minSeconds: number | undefined): string | undefined {
  if (minSeconds === undefined) return undefined;
  const schedule = compileSchedule(def.schedule, 'UTC');
  let previous = schedule.next(REFERENCE_MS);
  for (let i = 0; i < 300 && previous !== null; i++) {
    const next = schedule.next(previous);
    if (next === null) return undefined;
    if (next - previous < minSeconds * 1000)
      return `slots ${previous} and ${next} are closer than ${minSeconds} s`;
    previous = next;
  }
  return undefined;
}

test(`a task the evaluator accepts publishes only what its namespace's policies allow (${FILE})`, async () => {
  let accepted = 0;
  let refused = 0;
  await check(
    FILE,
    fc.property(policySpec, policySpec, policySpec, taskSpec, (a, b, other, t) => {
      const def = definitionOf(t);
      if (!def) return;
      const policies: PeriodicTaskPolicy[] = [
        { ...named('a'), spec: { ...a, namespaceSelector: { matchLabels: { team: 'a' } } } },
        {
          ...named('b'),
          spec: { ...b, namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } },
        },
        { ...named('other'), spec: { ...other, namespaceSelector: { matchLabels: { team: 'b' } } } },
      ];
      const source: PolicySource = {
        start: async () => {},
        policies: () => policies,
        namespaceLabels: () => ({ team: 'a' }),
        synced: () => true,
        stop: async () => {},
      };
      const verdict = new PolicyBook(source).evaluate({ def });
      if (verdict.enforced.length > 0) {
        refused += 1;
        return;
      }
      accepted += 1;
      const message = buildTaskMessage({
        task: def.task,
        id: taskIdForSlot('team-a/p', def.uid, REFERENCE_MS),
        args: def.args,
        kwargs: def.kwargs,
        options: def.options,
        scheduledAt: REFERENCE_MS,
        periodicTaskName: 'team-a/p',
        namespace: def.namespace,
        now: REFERENCE_MS,
      });
      assert.equal(message.headers.periodic_task_namespace, 'team-a');
      for (const spec of [a, b]) {
        assert.deepEqual(messageProblems(spec, message, def.options), []);
        assert.equal(spacingProblem(def, spec.minIntervalSeconds), undefined);
        if (spec.allowReplace === false) assert.notEqual(def.concurrencyPolicy, 'Replace');
      }
    }),
    400,
  );
  // Both sides are exercised: a generator that only ever refused would prove nothing.
  assert.ok(accepted >= 10 && refused >= 10, `accepted ${accepted}, refused ${refused}`);
});

function named(name: string): Omit<PeriodicTaskPolicy, 'spec'> {
  return { apiVersion: 'celerybeat.io/v1alpha1', kind: 'PeriodicTaskPolicy', metadata: { name } };
}
