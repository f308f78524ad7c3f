// Invalid specs: a valid generated spec with exactly one rule of one field broken. The mutations come from the
// schema nodes (wrong type, enum, lengths, bounds, required, unknown fields, every CEL rule's pattern) plus what
// only the operator can check (zone names, crontab values, dates that do not exist), marked so.
import fc from 'fast-check';
import { specSchema } from '../../src/api/periodic-task-schema.ts';
import type { ObjectNode, SchemaNode } from '../../src/api/schema-types.ts';
import { FIELD_RANGES } from '../../src/schedule/crontab-parse.ts';
import { type Spec, validSpec } from './spec-arbitrary.ts';

/**
 * `schema`: the API server's schema or a CEL rule can see it, so both must refuse. `operator`: only the
 * validator can (the API server accepts, the validator refuses: the expected direction).
 */
export type Visibility = 'schema' | 'operator';

export interface InvalidCase {
  /** Usually an object; a mutation of the spec itself makes it anything. */
  spec: unknown;
  /** The field broken, such as `spec.options.priority`. */
  field: string;
  what: string;
  visibility: Visibility;
}

interface Mutation {
  field: string;
  what: string;
  visibility: Visibility;
  value: fc.Arbitrary<unknown>;
  /** Remove the field instead of setting it (a required field left out). */
  remove?: boolean;
  /** Break the one-schedule rule: `value` is the schedule to add, or 'none' to remove the one there is. */
  schedules?: boolean;
}

const SCHEDULES = ['interval', 'crontab', 'cron', 'clocked', 'solar', 'schedules'];

/** A valid base for a schedule whose field is about to be broken, so that only that field is wrong. */
const SCHEDULE_BASE: Record<string, unknown> = {
  interval: { every: 30, period: 'seconds' },
  crontab: {},
  cron: '* * * * *',
  clocked: '2026-12-24T18:00:00Z',
  solar: { event: 'sunset', latitude: 52.52, longitude: 13.405 },
  schedules: [{ cron: '0 7 * * *' }],
};

const mut = (
  field: string,
  what: string,
  value: fc.Arbitrary<unknown>,
  visibility: Visibility = 'schema',
): Mutation => ({ field, what, value, visibility });

/** What breaks a node, read off the node itself. */
function nodeMutations(node: SchemaNode, field: string): Mutation[] {
  const out: Mutation[] = [];
  switch (node.kind) {
    case 'string': {
      out.push(mut(field, 'a number instead of a string', fc.integer()));
      if (node.enum) out.push(mut(field, 'not in the enum', fc.constantFrom('fortnights', 'Days', '')));
      if ((node.minLength ?? 0) > 0) out.push(mut(field, 'shorter than minLength', fc.constant('')));
      out.push(mut(field, 'longer than maxLength', fc.constant('a'.repeat(node.maxLength + 1))));
      for (const r of node.rules ?? []) {
        // Random text, five random words (a rule may hold for almost all text but apply to five words), and
        // the names a routing field may not use (which random text almost never hits).
        const text = fc.oneof(
          fc.string({ unit: 'grapheme-ascii', maxLength: Math.min(node.maxLength, 40) }),
          fc
            .array(fc.stringMatching(/^[!-~]{1,6}$/), { minLength: 5, maxLength: 5 })
            .map((words) => words.join(' ')),
          fc.constantFrom(...RESERVED_NAME_SAMPLES),
        );
        out.push(
          mut(
            field,
            `breaks the rule ${r.message}`,
            text.filter((s) => !r.holds(s)),
          ),
        );
      }
      break;
    }
    case 'integer': {
      out.push(mut(field, 'a fraction', fc.constantFrom(1.5, 2.25)));
      out.push(mut(field, 'a string', fc.constant('7')));
      if (node.minimum !== undefined)
        out.push(
          mut(field, 'below minimum', fc.integer({ min: node.minimum - 1000, max: node.minimum - 1 })),
        );
      if (node.maximum !== undefined)
        out.push(
          mut(field, 'above maximum', fc.integer({ min: node.maximum + 1, max: node.maximum + 1000 })),
        );
      break;
    }
    case 'number': {
      out.push(mut(field, 'a string', fc.constant('7')));
      if (node.minimum !== undefined)
        out.push(mut(field, 'below minimum', fc.constantFrom(node.minimum - 0.5, node.minimum - 1000)));
      if (node.exclusiveMinimum !== undefined)
        out.push(
          mut(
            field,
            'not above exclusiveMinimum',
            fc.constantFrom(node.exclusiveMinimum, node.exclusiveMinimum - 1),
          ),
        );
      if (node.maximum !== undefined)
        out.push(mut(field, 'above maximum', fc.constantFrom(node.maximum + 0.5, node.maximum + 1000)));
      break;
    }
    case 'boolean':
      out.push(mut(field, 'not a boolean', fc.constantFrom('true', 1, 'yes')));
      break;
    case 'freeObject':
      out.push(mut(field, 'not an object', fc.constantFrom([], 'x', 5, [1, 2])));
      break;
    case 'array':
      out.push(mut(field, 'not an array', fc.constantFrom({}, 'x', 5, { 0: 'a' })));
      break;
    case 'any':
      break;
    case 'object':
      out.push(...objectMutations(node, field));
  }
  return out;
}

function objectMutations(node: ObjectNode, field: string): Mutation[] {
  const out: Mutation[] = [mut(field, 'not an object', fc.constantFrom('x', 5, [1]))];
  out.push(mut(`${field}.bogusField`, 'an unknown field', fc.constantFrom(1, 'x', {})));
  for (const name of node.required ?? []) {
    out.push({ ...mut(`${field}.${name}`, 'a required field left out', fc.constant(null)), remove: true });
  }
  for (const [name, child] of Object.entries(node.properties)) {
    if (field === 'spec' && name === 'status') continue;
    out.push(...nodeMutations(child, `${field}.${name}`));
  }
  return out;
}

/** The object rules, broken by values drawn next to their limits (each rule's own predicate confirms it). */
function ruleMutations(): Mutation[] {
  const interval = specSchema.properties.interval as ObjectNode;
  const options = specSchema.properties.options as ObjectNode;
  const broken = (node: ObjectNode, arb: fc.Arbitrary<Record<string, unknown>>) =>
    arb.filter((v) => (node.rules ?? []).some((r) => !r.holds(v)));
  return [
    mut(
      'spec.interval',
      'breaks an interval rule (under 1 ms, over 36,500 days)',
      broken(
        interval,
        fc.oneof(
          fc.integer({ min: 1, max: 999 }).map((every) => ({ every, period: 'microseconds' })),
          fc.integer({ min: 36_501, max: 40_000 }).map((every) => ({ every, period: 'days' })),
          fc.integer({ min: 876_001, max: 900_000 }).map((every) => ({ every, period: 'hours' })),
          fc.integer({ min: 52_560_001, max: 60_000_000 }).map((every) => ({ every, period: 'minutes' })),
        ),
      ),
    ),
    mut(
      'spec.options',
      'softTimeLimit not below timeLimit',
      broken(
        options,
        fc
          .tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 }))
          .map(([t, extra]) => ({ timeLimit: t, softTimeLimit: t + extra })),
      ),
    ),
  ];
}

/** Names of kombu's keys, Celery's control and event exchanges and queues, and the operator's keys. */
const RESERVED_NAME_SAMPLES = [
  '_kombu.binding.celery',
  '_kombu.binding.celery.pidbox',
  'unacked',
  'unacked_index',
  'unacked_mutex',
  'celery\x06\x163',
  'unacked\x06\x169',
  'celery.pidbox',
  'reply.celery.pidbox',
  'worker1@host.celery.pidbox',
  '0c4c1e36.reply.celery.pidbox',
  'celeryev',
  'celeryev.87dfa9c0-3bee-489e-aac7-e21e19fbe35c',
  'celerybeat-operator:leader:tasks:meta:',
];

/** What only the operator checks: zones, crontab values, dates, names under its key prefix. */
function operatorMutations(): Mutation[] {
  const out: Mutation[] = [
    mut(
      'spec.timeZone',
      'not an IANA zone',
      fc.constantFrom('Mars/Olympus', 'Europe/Berln', 'UTC+1', '+01:00', 'Local'),
      'operator',
    ),
    mut(
      'spec.clocked',
      'a date that does not exist',
      fc.constantFrom(
        '2026-02-30T00:00:00Z',
        '2025-02-29T12:00:00Z',
        '2026-04-31T00:00:00+02:00',
        '2100-02-29T00:00:00Z',
      ),
      'operator',
    ),
    mut(
      'spec.startTime',
      'a date that does not exist',
      fc.constantFrom('2026-06-31T00:00:00Z', '2023-02-29T00:00:00Z'),
      'operator',
    ),
    mut(
      'spec.endTime',
      'a date that does not exist',
      fc.constantFrom('2026-09-31T00:00:00Z', '2027-02-29T23:59:59+01:00'),
      'operator',
    ),
    mut(
      'spec.crontab',
      'never matches a date',
      fc.constantFrom(
        { dayOfMonth: '30,31', monthOfYear: '2' },
        { dayOfMonth: '31', monthOfYear: '4,6,9,11' },
      ),
      'operator',
    ),
    mut('spec.cron', 'never matches a date', fc.constantFrom('0 0 31 2 *', '0 0 30 2 *'), 'operator'),
  ];
  for (const [field, { min, max }] of Object.entries(FIELD_RANGES)) {
    const bad = [String(max + 1), `${min}-${max + 1}`, '*/0', `${min}-${max}/0`, 'funday'];
    if (min > 0) bad.push(String(min - 1));
    if (field === 'monthOfYear') bad.push('jan');
    out.push(mut(`spec.crontab.${field}`, 'a value Celery refuses', fc.constantFrom(...bad), 'operator'));
  }
  out.push(
    mut(
      'spec.cron',
      'a value Celery refuses',
      fc.constantFrom('60 * * * *', '* 24 * * *', '* * 0 * *', '* * * 13 *', '* * * * 7', '*/0 * * * *'),
      'operator',
    ),
  );
  for (const field of ['queue', 'exchange', 'routingKey']) {
    out.push(
      mut(
        `spec.options.${field}`,
        "under the operator's key prefix",
        fc.constantFrom('tasks:meta:team-b/later', 'tasks:meta:'),
        'operator',
      ),
    );
  }
  out.push(
    mut(
      'spec.options.headers',
      'a header Celery or the operator sets',
      fc.constantFrom(
        { id: 'x' },
        { task: 'y' },
        { eta: null },
        { periodic_task_namespace: 'team-a' },
        { original_periodic_task_name: 'x' },
      ),
      'operator',
    ),
  );
  return out;
}

export const MUTATIONS: readonly Mutation[] = [
  ...objectMutations(specSchema, 'spec'),
  ...ruleMutations(),
  ...operatorMutations(),
  { ...mut('spec', 'no schedule', fc.constant('none')), schedules: true },
  { ...mut('spec', 'two schedules', fc.constantFrom(...SCHEDULES)), schedules: true },
];

function set(spec: Spec, field: string, value: unknown, remove: boolean): Spec {
  const path = field.split('.').slice(1);
  const out: Spec = structuredClone(spec);
  const top = path[0]!;
  if (SCHEDULES.includes(top)) {
    // Break this schedule's field, not the one-schedule rule: make it the spec's only schedule first.
    for (const s of SCHEDULES) if (s !== top) delete out[s];
    if (path.length > 1 && (typeof out[top] !== 'object' || out[top] === null))
      out[top] = structuredClone(SCHEDULE_BASE[top]);
  }
  let parent: Record<string, unknown> = out;
  for (const name of path.slice(0, -1)) {
    const child = parent[name];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) parent[name] = {};
    parent = parent[name] as Record<string, unknown>;
  }
  const leaf = path.at(-1)!;
  if (remove) delete parent[leaf];
  else parent[leaf] = value;
  return out;
}

function apply(spec: Spec, m: Mutation, value: unknown): unknown {
  if (!m.schedules) return m.field === 'spec' ? value : set(spec, m.field, value, m.remove ?? false);
  const out: Spec = structuredClone(spec);
  const present = SCHEDULES.find((s) => out[s] !== undefined && out[s] !== null)!;
  if (value === 'none') delete out[present];
  else {
    const other = value === present ? SCHEDULES.find((s) => s !== present)! : (value as string);
    out[other] = structuredClone(SCHEDULE_BASE[other]);
  }
  return out;
}

/** A valid spec with one mutation applied. */
export const invalidSpec: fc.Arbitrary<InvalidCase> = fc
  .tuple(
    // Bases up to 20 kB: the API server takes seconds over some very large bodies, and large free-form JSON
    // is the business of the valid-spec and Redis properties, not of one field's rule.
    validSpec({ clocked: 'safe' }).filter((s) => JSON.stringify(s).length <= 20_000),
    fc.constantFrom(...MUTATIONS),
  )
  .chain(([spec, m]) =>
    m.value.map((value) => ({
      spec: apply(spec, m, value),
      field: m.field,
      what: m.what,
      visibility: m.visibility,
    })),
  );
