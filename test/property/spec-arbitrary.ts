// Generators of PeriodicTask specs, derived by walking the schema that also builds the CRD (specSchema): every
// field of the schema gets a value from its node (kind, bounds, enum, required, rules), so a field added to the
// schema is generated without touching this file. Fields whose meaning the node does not carry (schedules,
// crontab patterns, timestamps, zones) get generators of their own that reach every shape and extreme.
//
// `validSpec` builds specs both the API server and the validator must accept; `invalidSpec` takes a valid one
// and breaks exactly one rule of one field, saying whether the API server can see it.
import fc from 'fast-check';
import { specSchema } from '../../src/api/periodic-task-schema.ts';
import type { IntegerNode, ObjectNode, SchemaNode, StringNode } from '../../src/api/schema-types.ts';
import { DEFAULT_KEY_PREFIX } from '../../src/api/types.ts';
import { RESERVED_TASK_HEADERS } from '../../src/celery/message.ts';
import { crontabSets } from '../../src/schedule/compile.ts';
import { cronJobSchedule } from '../../src/schedule/cron-job-parse.ts';
import { type CrontabFieldName, FIELD_RANGES } from '../../src/schedule/crontab-parse.ts';
import { WallCalendar } from '../../src/schedule/wall-calendar.ts';
import { cronJobString } from './cron-job-arbitrary.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Spec = Record<string, unknown>;

const DAY_MS = 86_400_000;
/** The instant simulations start around (a fixed reference, so a seed replays the same calendar). */
export const REFERENCE_MS = Date.UTC(2026, 10, 24, 7, 0, 0);

const SCHEDULE_FIELDS = ['interval', 'crontab', 'cron', 'clocked', 'solar'] as const;
export type ScheduleField = (typeof SCHEDULE_FIELDS)[number];

// ── leaves ───────────────────────────────────────────────────────────────────────────────────────────────

/** Unicode text of `min`…`max` UTF-16 units: short text of any script, and text exactly at the limit. */
function text(min: number, max: number): fc.Arbitrary<string> {
  const short = fc
    .string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 24) })
    .filter((s) => s.length >= min && s.length <= max);
  const atLimit = fc.constantFrom('a', 'é', '中', '\u0301', ' ').map((c) => c.repeat(max));
  // Astral characters count two units here, one character for the API server: stay within both.
  const astral = fc.constant('😀'.repeat(Math.floor(max / 2))).filter((s) => s.length >= min);
  return fc.oneof(
    { arbitrary: short, weight: 8 },
    { arbitrary: atLimit, weight: 1 },
    { arbitrary: astral, weight: 1 },
  );
}

/** Any JSON value, Unicode strings included, sometimes large (long strings, long arrays, deep-ish nesting). */
export const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' }) as fc.Arbitrary<Json>, weight: 12 },
  { arbitrary: fc.constantFrom<Json>('x'.repeat(100_000), '😀é中'.repeat(20_000)), weight: 1 },
  { arbitrary: fc.array(fc.integer(), { minLength: 1000, maxLength: 3000 }), weight: 1 },
  { arbitrary: nested(90), weight: 1 },
);

/** `depth` arrays inside each other around a value: deep, but within the message check's limit of 100. */
function nested(depth: number): fc.Arbitrary<Json> {
  return fc.string({ unit: 'grapheme', maxLength: 4 }).map((leaf) => {
    let v: Json = leaf;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
    return v;
  });
}

const jsonObject: fc.Arbitrary<Record<string, Json>> = fc.dictionary(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  jsonValue,
  { maxKeys: 6 },
);

/** Header names a worker accepts and the validator allows: not a protocol header, 1-255 bytes. */
const headerName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => !RESERVED_TASK_HEADERS.has(s) && Buffer.byteLength(s) <= 255);

const headers: fc.Arbitrary<Record<string, Json>> = fc.dictionary(headerName, jsonValue, { maxKeys: 5 });

// ── schedules ────────────────────────────────────────────────────────────────────────────────────────────

const MAX_DAYS = 36_500;
const PERIOD_LIMIT: Readonly<Record<string, number>> = {
  days: MAX_DAYS,
  hours: MAX_DAYS * 24,
  minutes: MAX_DAYS * 24 * 60,
  seconds: 2_147_483_647,
  microseconds: 2_147_483_647,
};

/**
 * An interval in every period from its smallest to its largest value (1 ms in microseconds … 36,500 days).
 * `subMillisecond: false` keeps microsecond intervals to whole milliseconds.
 */
export function interval(subMillisecond = true): fc.Arbitrary<{ every: number; period: string }> {
  return fc.constantFrom('days', 'hours', 'minutes', 'seconds', 'microseconds').chain((period) => {
    const min = period === 'microseconds' ? 1000 : 1;
    const max = PERIOD_LIMIT[period]!;
    let every = fc.oneof(
      fc.constantFrom(min, max, min + 1),
      fc.integer({ min, max: Math.min(max, min * 100) }),
      fc.integer({ min, max }),
    );
    if (period === 'microseconds') {
      every = subMillisecond
        ? fc.oneof(
            every,
            fc.integer({ min: 1000, max: 100_000 }).filter((n) => n % 1000 !== 0),
          )
        : every.map((n) => Math.max(1000, n - (n % 1000)));
    }
    return every.map((e) => ({ every: e, period }));
  });
}

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const WEEKDAY_FULL = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function mixedCase(s: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
}

/** One value of a crontab field: a number (sometimes zero-padded), and for day of week a name. */
function crontabValue(field: CrontabFieldName, names: boolean): fc.Arbitrary<string> {
  const { min, max } = FIELD_RANGES[field];
  const num = fc.oneof(
    fc.constantFrom(min, max).map(String),
    fc.integer({ min, max }).map(String),
    fc.integer({ min, max }).map((n) => `0${n}`),
  );
  if (!names) return num;
  const name = fc
    .integer({ min: Math.max(min, 0), max: Math.min(max, 6) })
    .chain((d) => fc.oneof(mixedCase(WEEKDAY_NAMES[d]!), mixedCase(WEEKDAY_FULL[d]!)));
  // Celery reads weekday names in every field (minute "mon" is 1): rare outside day of week.
  return field === 'dayOfWeek'
    ? fc.oneof(num, name)
    : fc.oneof({ arbitrary: num, weight: 20 }, { arbitrary: name, weight: 1 });
}

/** One part of a field: `*`, `*\/s`, `a`, `a-b` (wrapping when b < a), `a-b/s`. */
function crontabPart(field: CrontabFieldName): fc.Arbitrary<string> {
  const { max } = FIELD_RANGES[field];
  const value = crontabValue(field, true);
  const step = fc.oneof(fc.integer({ min: 1, max: max + 2 }), fc.constantFrom(1, max)).map(String);
  return fc.oneof(
    fc.constant('*'),
    step.map((s) => `*/${s}`),
    value,
    fc.tuple(value, value).map(([a, b]) => `${a}-${b}`),
    fc.tuple(value, value, step).map(([a, b, s]) => `${a}-${b}/${s}`),
  );
}

/** A Celery crontab field: one part or a comma-separated list of them. */
export function crontabField(field: CrontabFieldName): fc.Arbitrary<string> {
  return fc
    .array(crontabPart(field), { minLength: 1, maxLength: 4 })
    .map((parts) => parts.join(','))
    .filter((s) => s.length <= 100);
}

/** A `cron` string: a CronJob schedule in any form it accepts. */
export const cronString = cronJobString;

// ── timestamps and zones ─────────────────────────────────────────────────────────────────────────────────

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** RFC 3339 text of an instant, written with `offsetMin` and `digits` fraction digits (beyond ms: zeros or noise). */
export function rfc3339(ms: number, offsetMin: number, digits: number, noise = '', zulu = true): string {
  const wall = new Date(ms + offsetMin * 60_000);
  const frac =
    digits === 0 ? '' : `.${(pad(wall.getUTCMilliseconds(), 3) + noise.padEnd(6, '0')).slice(0, digits)}`;
  const off =
    offsetMin === 0 && zulu
      ? 'Z'
      : `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60), 2)}:${pad(Math.abs(offsetMin) % 60, 2)}`;
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1, 2)}-${pad(wall.getUTCDate(), 2)}` +
    `T${pad(wall.getUTCHours(), 2)}:${pad(wall.getUTCMinutes(), 2)}:${pad(wall.getUTCSeconds(), 2)}${frac}${off}`
  );
}

// Python's datetime, and so the Redis format, starts at the year 1 (the validator refuses the year 0000).
const YEAR_1 = new Date(0).setUTCFullYear(1, 0, 1);
const YEAR_9999_END = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Instants whose microseconds are a safe integer: 1684-07-28 … 2255-06-05. */
export const MICROSECOND_SAFE_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);

export type TimeRange = 'all' | 'safe' | 'far';

/**
 * An instant near the reference (within days: past and future of a simulation), or anywhere from year 1 to
 * 9999, written in any offset with 0-9 fraction digits; the written year stays in 0001-9999. `far` draws only
 * times before 1684 or after 2255, `safe` none of them.
 */
export function timestampIn(range: TimeRange): fc.Arbitrary<string> {
  const lo = YEAR_1 + 2 * DAY_MS;
  const hi = YEAR_9999_END - 2 * DAY_MS;
  const far = fc.oneof(
    fc.integer({ min: lo, max: -MICROSECOND_SAFE_MS - 1 }),
    fc.integer({ min: MICROSECOND_SAFE_MS + 1, max: hi }),
  );
  const anywhere = fc.integer({ min: lo, max: hi });
  const instant =
    range === 'far'
      ? far
      : fc.oneof(
          {
            arbitrary: fc.integer({ min: REFERENCE_MS - 10 * DAY_MS, max: REFERENCE_MS + 10 * DAY_MS }),
            weight: 6,
          },
          { arbitrary: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2200, 0, 1) }), weight: 2 },
          {
            arbitrary:
              range === 'safe'
                ? fc.integer({ min: -MICROSECOND_SAFE_MS, max: MICROSECOND_SAFE_MS })
                : anywhere,
            weight: 1,
          },
        );
  return fc
    .tuple(
      instant,
      fc.oneof(fc.constant(0), fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 })),
      fc.integer({ min: 0, max: 9 }),
      fc.stringMatching(/^[0-9]{0,6}$/),
      fc.boolean(),
    )
    .map(([ms, off, digits, noise, zulu]) => rfc3339(ms, off, digits, noise, zulu));
}

export const timestamp: fc.Arbitrary<string> = timestampIn('all');

/** Every zone Node knows, plus UTC. */
export const ZONES: readonly string[] = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])];
export const timeZone: fc.Arbitrary<string> = fc.constantFrom(...ZONES);

// ── the schema walk ──────────────────────────────────────────────────────────────────────────────────────

/** Generators for fields whose rules the node states only as a predicate (paths below spec). */
function overrides(subMillisecond: boolean, clocked: TimeRange): Record<string, fc.Arbitrary<unknown>> {
  return {
    'spec.interval': interval(subMillisecond),
    'spec.crontab.minute': crontabField('minute'),
    'spec.crontab.hour': crontabField('hour'),
    'spec.crontab.dayOfWeek': crontabField('dayOfWeek'),
    'spec.crontab.dayOfMonth': crontabField('dayOfMonth'),
    'spec.crontab.monthOfYear': crontabField('monthOfYear'),
    'spec.cron': cronString,
    'spec.clocked': timestampIn(clocked),
    'spec.startTime': timestamp,
    'spec.endTime': timestamp,
    // Small counts, which a simulation reaches, and the bounds.
    'spec.maxRuns': fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 30 }), weight: 4 },
      { arbitrary: fc.constantFrom(1, maxRunsNode().maximum as number), weight: 1 },
    ),
    'spec.pause.until': timestamp,
    // Small limits, which a run of failures reaches, and the bounds.
    'spec.pauseAfterFailures': fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 4 },
      { arbitrary: fc.constantFrom(1, pauseAfterFailuresNode().maximum as number), weight: 1 },
    ),
    'spec.timeZone': timeZone,
    'spec.options.headers': headers,
    'spec.options.queue': routingName('queue'),
    'spec.options.exchange': routingName('exchange'),
    'spec.options.routingKey': routingName('routingKey'),
  };
}

function pauseAfterFailuresNode(): IntegerNode {
  return specSchema.properties.pauseAfterFailures as IntegerNode;
}

function maxRunsNode(): IntegerNode {
  return specSchema.properties.maxRuns as IntegerNode;
}

/** Any text of a routing field but its reserved names (the schema's rules) and the default key prefix. */
function routingName(field: 'queue' | 'exchange' | 'routingKey'): fc.Arbitrary<string> {
  const node = (specSchema.properties.options as ObjectNode).properties[field] as StringNode;
  return text(node.minLength ?? 0, node.maxLength).filter(
    (s) => (node.rules ?? []).every((r) => r.holds(s)) && !s.startsWith(DEFAULT_KEY_PREFIX),
  );
}

function stringValue(node: StringNode, path: string): fc.Arbitrary<string> {
  if (node.enum) return fc.constantFrom(...node.enum);
  if (node.rules?.length) throw new Error(`${path}: a string with rules needs a generator of its own`);
  return text(node.minLength ?? 0, node.maxLength);
}

/** A value of `node` that satisfies it (bounds at both ends, every optional field sometimes absent or null). */
export function nodeValue(
  node: SchemaNode,
  path: string,
  special: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> {
  const own = special[path];
  if (own) return own;
  switch (node.kind) {
    case 'string':
      return stringValue(node, path);
    case 'integer': {
      const min = node.minimum ?? -(2 ** 31);
      const max = node.maximum ?? 2 ** 31 - 1;
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
    }
    case 'number': {
      if (node.minimum !== undefined) {
        // Both bounds, zero, and any double between (latitudes and longitudes to the pole and the antimeridian).
        const min = node.minimum;
        const top = node.maximum ?? 1e9;
        return fc.oneof(
          fc.constantFrom(...[min, top, 0, min / 2].filter((v) => v >= min && v <= top)),
          fc.integer({ min: Math.ceil(min), max: Math.floor(top) }),
          fc.double({ min, max: top, noNaN: true, noDefaultInfinity: true }),
        );
      }
      const lo = node.exclusiveMinimum ?? -1e9;
      const max = node.maximum ?? 1e9;
      const tiny = lo === 0 ? Number.MIN_VALUE : lo + 1;
      return fc.oneof(
        fc.constantFrom(tiny, max, 0.001, 1),
        fc.integer({ min: Math.ceil(tiny), max }),
        fc.double({ min: tiny, max, noNaN: true, noDefaultInfinity: true }),
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'freeObject':
      return jsonObject;
    case 'any':
      return jsonValue;
    case 'array':
      return fc.array(nodeValue(node.items, `${path}[]`, special), { maxLength: node.maxItems ?? 8 });
    case 'object':
      return objectValue(node, path, special);
  }
}

function objectValue(
  node: ObjectNode,
  path: string,
  special: Record<string, fc.Arbitrary<unknown>>,
  skip: readonly string[] = [],
  ownRules = true,
): fc.Arbitrary<Spec> {
  const required = new Set(node.required ?? []);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, child] of Object.entries(node.properties)) {
    if (skip.includes(name)) continue;
    const value = nodeValue(child, `${path}.${name}`, special);
    // The API server prunes null optional fields before validating; the validator drops them too.
    fields[name] = required.has(name)
      ? value
      : fc.oneof({ arbitrary: value, weight: 20 }, { arbitrary: fc.constant(null), weight: 1 });
  }
  const record = fc.record(fields, { requiredKeys: [...required].filter((r) => !skip.includes(r)) });
  const rules = ownRules ? (node.rules ?? []) : [];
  if (rules.length === 0) return record;
  return record.filter((value) => {
    const present = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
    return rules.every((r) => r.holds(present));
  });
}

/** The schedule fields of one kind, from the schema's own nodes. */
function scheduleOf(
  kind: ScheduleField,
  special: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> {
  const node = specSchema.properties[kind]!;
  return nodeValue(node, `spec.${kind}`, special);
}

export interface SpecOptions {
  /** Microsecond intervals that are not whole milliseconds (default true). */
  subMillisecond?: boolean;
  /** Restrict the schedule kinds. */
  kinds?: readonly ScheduleField[];
  /** Which clocked times (default all). */
  clocked?: TimeRange;
  /** Whether `schedules` (several of the kinds) may stand for the one schedule (default true). */
  sets?: boolean;
}

/** One schedule of a kind that the operator accepts (a crontab or cron that matches some date). */
function validSchedule(
  kinds: readonly ScheduleField[],
  special: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<{ kind: ScheduleField; value: unknown }> {
  return fc
    .constantFrom(...kinds)
    .chain((kind) => scheduleOf(kind, special).map((value) => ({ kind, value })))
    .filter(
      ({ kind, value }) =>
        kind === 'interval' || kind === 'clocked' || kind === 'solar' || crontabMatches(kind, value),
    );
}

/** A grid in a set: an interval or a cron @every (a set holds at most one). */
function isGrid({ kind, value }: { kind: ScheduleField; value: unknown }): boolean {
  return kind === 'interval' || (kind === 'cron' && String(value).trim().startsWith('@every'));
}

/** spec.schedules: one to four schedules, at most one of them a grid. */
function scheduleList(
  kinds: readonly ScheduleField[],
  special: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Spec[]> {
  return fc
    .array(validSchedule(kinds, special), { minLength: 1, maxLength: 4 })
    .filter((list) => list.filter(isGrid).length <= 1)
    .map((list) => list.map(({ kind, value }) => ({ [kind]: value })));
}

const EXCLUSION_FIELDS = ['minute', 'hour', 'dayOfWeek', 'dayOfMonth', 'monthOfYear'] as const;
const FIELD_SIZES = { minute: 60, hour: 24, dayOfWeek: 7, dayOfMonth: 31, monthOfYear: 12 } as const;

/** A date YYYY-MM-DD: mostly within weeks of the reference time, where the simulations run. */
const exclusionDate: fc.Arbitrary<string> = fc
  .oneof(
    {
      arbitrary: fc.integer({ min: REFERENCE_MS - 40 * DAY_MS, max: REFERENCE_MS + 40 * DAY_MS }),
      weight: 4,
    },
    {
      arbitrary: fc.integer({ min: new Date(0).setUTCFullYear(1, 0, 1), max: Date.UTC(9999, 11, 31) }),
      weight: 1,
    },
  )
  .map((ms) => new Date(ms).toISOString().slice(0, 10));

/** A calendar of crontab fields that does not match every minute (the operator refuses that one). */
const exclusionCalendar: fc.Arbitrary<Spec> = fc
  .record(
    Object.fromEntries(EXCLUSION_FIELDS.map((f) => [f, crontabField(f)])) as Record<
      (typeof EXCLUSION_FIELDS)[number],
      fc.Arbitrary<string>
    >,
    { requiredKeys: [] },
  )
  .filter((calendar) => {
    if (Object.keys(calendar).length === 0) return false;
    const sets = crontabSets({ ...STARS, ...calendar } as Record<CrontabFieldName, string>);
    return EXCLUSION_FIELDS.some((f) => sets[f].length < FIELD_SIZES[f]);
  });

const STARS = { minute: '*', hour: '*', dayOfWeek: '*', dayOfMonth: '*', monthOfYear: '*' };

/** spec.exclude: dates and calendars. */
const exclusionList: fc.Arbitrary<Spec[]> = fc.array(
  fc.oneof(
    exclusionDate.map((date) => ({ date })),
    exclusionCalendar,
  ),
  { minLength: 0, maxLength: 4 },
);

/** A spec the API server and the validator both accept: exactly one schedule, every other field sometimes. */
export function validSpec(options: SpecOptions = {}): fc.Arbitrary<Spec> {
  const special = overrides(options.subMillisecond ?? true, options.clocked ?? 'all');
  const kinds = options.kinds ?? SCHEDULE_FIELDS;
  // The spec's own rule (exactly one schedule) is met by construction: one kind is added below.
  const rest = fc
    .tuple(
      objectValue(specSchema, 'spec', special, [...SCHEDULE_FIELDS, 'schedules', 'exclude'], false),
      fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: exclusionList, weight: 1 }),
    )
    .map(([spec, exclude]) => (exclude === null ? spec : { ...spec, exclude }));
  const single = validSchedule(kinds, special);
  const schedule: fc.Arbitrary<{ kind: ScheduleField | 'schedules'; value: unknown }> =
    options.sets === false
      ? single
      : fc.oneof(
          { arbitrary: single, weight: 3 },
          {
            arbitrary: scheduleList(kinds, special).map((value) => ({ kind: 'schedules' as const, value })),
            weight: 1,
          },
        );
  // The spec's other rules (jitter shorter than the slot spacing) depend on the schedule: a value that
  // breaks one is left out rather than filtered away, so the generator stays fast.
  return fc.tuple(rest, schedule).map(([spec, { kind, value }]) => {
    // Exclusions are refused beside a solar schedule (the validator's rule, which the CRD leaves to it).
    const solar =
      kind === 'solar' ||
      (kind === 'schedules' &&
        Array.isArray(value) &&
        value.some((v) => v !== null && typeof v === 'object' && 'solar' in v));
    const whole: Spec = solar ? { ...spec, [kind]: value, exclude: null } : { ...spec, [kind]: value };
    const present = nonNull(whole);
    // An @every may be shorter than the jitter, which only the operator sees.
    const shortEvery = kind === 'cron' && String(value).startsWith('@every');
    const fitting =
      (specSchema.rules ?? []).every((r) => r.holds(present)) && !shortEvery
        ? whole
        : { ...whole, jitterSeconds: null };
    return endsInTime(fitting) ? fitting : { ...fitting, endTime: null };
  });
}

/** The operator's rule for endTime: after startTime, not before a clocked time (else the spec is left without it). */
function endsInTime(spec: Spec): boolean {
  if (typeof spec.endTime !== 'string') return true;
  const end = Date.parse(spec.endTime);
  if (typeof spec.startTime === 'string' && end <= Date.parse(spec.startTime)) return false;
  return !(typeof spec.clocked === 'string' && end < Date.parse(spec.clocked));
}

/**
 * Whether a crontab (day of month AND day of week AND month) or cron string (its own day rule) matches some date:
 * what only the operator can check, and the one rule the generators above do not meet by construction.
 */
function crontabMatches(kind: 'crontab' | 'cron', value: unknown): boolean {
  if (kind === 'cron') {
    const parsed = cronJobSchedule(value as string);
    if (!parsed.ok) return false;
    const s = parsed.schedule;
    if (s.kind === 'every') return true;
    if (Object.values(s.sets).some((values) => values.length === 0)) return false;
    return new WallCalendar(s.sets, { eitherDay: s.eitherDay }).nextWall(Date.UTC(2000, 0, 1)) !== null;
  }
  const fields = {
    minute: '*',
    hour: '*',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
    ...nonNull(value),
  };
  const sets = crontabSets(fields as Record<CrontabFieldName, string>);
  return new WallCalendar(sets).nextWall(Date.UTC(2000, 0, 1)) !== null;
}

function nonNull(value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(value as Record<string, string | null>).filter(([, v]) => v !== null),
  ) as Record<string, string>;
}

/** Every leaf path of the schema below `spec` (`spec.options.priority`), for the coverage check. */
export function schemaLeafPaths(node: SchemaNode = specSchema, path = 'spec'): string[] {
  if (node.kind !== 'object') return [path];
  return Object.entries(node.properties).flatMap(([name, child]) =>
    schemaLeafPaths(child, `${path}.${name}`),
  );
}
