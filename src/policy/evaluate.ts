// Whether a valid PeriodicTask complies with the policies that select its namespace. Pure: the caller gives
// the policies, the task's definition and the annotations and status that hold its run-now and backfill
// requests. Each policy is checked on its own and a task must satisfy every one, so several policies on one
// namespace add up to the stricter of each rule, and each violation names the policy it comes from.
import { BACKFILL_ANNOTATION, RUN_NOW_ANNOTATION } from '../api/annotations.ts';
import type {
  PeriodicTaskPolicy,
  PeriodicTaskPolicySpec,
  PeriodicTaskStatus,
  PolicyMode,
  TaskDefinition,
} from '../api/types.ts';
import { compileTaskSchedule } from '../schedule/compile.ts';
import { jsonBytes, jsonDepth } from './json-measure.ts';
import { matchesAny, matchesPattern } from './name-pattern.ts';
import { shortestSpacingUs } from './schedule-spacing.ts';

/** The task as a policy sees it. */
export interface PolicySubject {
  def: TaskDefinition;
  annotations?: Readonly<Record<string, string>> | undefined;
  status?: PeriodicTaskStatus | undefined;
}

export interface Violation {
  policy: string;
  mode: PolicyMode;
  /** The policy field that is violated, such as `maxPriority`. */
  rule: keyof PeriodicTaskPolicySpec;
  /** What the task does and what the rule allows. */
  message: string;
}

export interface PolicyVerdict {
  /** Violations of `Enforce` policies: the task must not be scheduled. */
  enforced: Violation[];
  /** Violations of `Warn` policies: reported, the task runs. */
  warned: Violation[];
}

export function evaluatePolicies(
  policies: readonly PeriodicTaskPolicy[],
  subject: PolicySubject,
): PolicyVerdict {
  const verdict: PolicyVerdict = { enforced: [], warned: [] };
  for (const policy of policies) {
    const mode = policy.spec.mode ?? 'Enforce';
    const found = policyViolations(policy.spec, subject).map(([rule, message]) => ({
      policy: policy.metadata.name,
      mode,
      rule,
      message,
    }));
    (mode === 'Enforce' ? verdict.enforced : verdict.warned).push(...found);
  }
  return verdict;
}

/** The violations as one line, for a condition message and an Event. */
export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `PeriodicTaskPolicy ${v.policy}: ${v.message}`).join('; ');
}

type Found = [keyof PeriodicTaskPolicySpec, string];

function policyViolations(
  spec: PeriodicTaskPolicySpec,
  { def, annotations, status }: PolicySubject,
): Found[] {
  const found: Found[] = [];
  const name = (value: string) => JSON.stringify(value);
  if (spec.allowedTaskNames && !matchesAny(spec.allowedTaskNames, def.task))
    found.push(['allowedTaskNames', `task ${name(def.task)} is not in allowedTaskNames`]);
  const denied = spec.deniedTaskNames?.find((p) => matchesPattern(p, def.task));
  if (denied !== undefined)
    found.push(['deniedTaskNames', `task ${name(def.task)} matches deniedTaskNames ${name(denied)}`]);
  const { options } = def;
  if (spec.allowedQueues && !matchesAny(spec.allowedQueues, options.queue))
    found.push(['allowedQueues', `queue ${name(options.queue)} is not in allowedQueues`]);
  if (
    spec.allowedExchanges &&
    options.exchange !== undefined &&
    !matchesAny(spec.allowedExchanges, options.exchange)
  )
    found.push(['allowedExchanges', `exchange ${name(options.exchange)} is not in allowedExchanges`]);
  if (
    spec.allowedRoutingKeys &&
    options.routingKey !== undefined &&
    !matchesAny(spec.allowedRoutingKeys, options.routingKey)
  )
    found.push([
      'allowedRoutingKeys',
      `routing key ${name(options.routingKey)} is not in allowedRoutingKeys`,
    ]);
  const priority = options.priority ?? 0;
  if (spec.maxPriority !== undefined && priority > spec.maxPriority)
    found.push(['maxPriority', `priority ${priority} is above maxPriority ${spec.maxPriority}`]);
  const allowedHeaders = spec.allowedHeaders;
  if (allowedHeaders) {
    for (const header of Object.keys(options.headers)) {
      if (!matchesAny(allowedHeaders, header))
        found.push(['allowedHeaders', `header ${name(header)} is not in allowedHeaders`]);
    }
  }
  const sized: [string, unknown, keyof PeriodicTaskPolicySpec, number | undefined][] = [
    ['args', def.args, 'maxArgsBytes', spec.maxArgsBytes],
    ['kwargs', def.kwargs, 'maxKwargsBytes', spec.maxKwargsBytes],
    ['headers', options.headers, 'maxHeadersBytes', spec.maxHeadersBytes],
  ];
  for (const [what, value, rule, max] of sized) {
    const bytes = max === undefined ? 0 : jsonBytes(value);
    if (max !== undefined && bytes > max)
      found.push([rule, `${what} are ${bytes} bytes, above ${rule} ${max}`]);
    const depth = spec.maxJsonDepth === undefined ? 0 : jsonDepth(value);
    if (spec.maxJsonDepth !== undefined && depth > spec.maxJsonDepth)
      found.push(['maxJsonDepth', `${what} nest ${depth} levels, above maxJsonDepth ${spec.maxJsonDepth}`]);
  }
  if (spec.minIntervalSeconds !== undefined) {
    const spacingUs = shortestSpacingUs(def.schedule);
    if (spacingUs !== null && spacingUs < spec.minIntervalSeconds * 1_000_000)
      found.push([
        'minIntervalSeconds',
        `runs can be ${spacingUs / 1_000_000} s apart, below minIntervalSeconds ${spec.minIntervalSeconds}`,
      ]);
  }
  if (def.concurrencyPolicy === 'Replace' && spec.allowReplace === false)
    found.push(['allowReplace', 'concurrencyPolicy is Replace, and allowReplace is false']);
  const runNow = annotations?.[RUN_NOW_ANNOTATION];
  if (spec.allowRunNow === false && runNow !== undefined && runNow !== status?.lastRunNow)
    found.push(['allowRunNow', `a run-now (${RUN_NOW_ANNOTATION}) is requested, and allowRunNow is false`]);
  const range = annotations?.[BACKFILL_ANNOTATION];
  if (spec.maxBackfillSlots !== undefined && range !== undefined && range !== status?.backfill?.range) {
    const slots = backfillSlots(def, range);
    if (slots > spec.maxBackfillSlots)
      found.push([
        'maxBackfillSlots',
        `the backfill ${name(range)} holds ${slots} slots, above maxBackfillSlots ${spec.maxBackfillSlots}`,
      ]);
  }
  return found;
}

/** The slots of the schedule in a `<from>/<to>` range; 0 when it does not parse (the backfill reports that). */
function backfillSlots(def: TaskDefinition, range: string): number {
  const [fromText, toText, ...rest] = range.split('/');
  const from = Date.parse(fromText ?? '');
  const to = Date.parse(toText ?? '');
  if (rest.length > 0 || Number.isNaN(from) || Number.isNaN(to) || from > to) return 0;
  return compileTaskSchedule(def).latest(from - 1, to)?.count ?? 0;
}
