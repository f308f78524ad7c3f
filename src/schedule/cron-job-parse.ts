// A `cron` string read as Kubernetes reads a CronJob's `schedule`: the grammar of robfig/cron v3's ParseStandard
// (five fields or a descriptor), reimplemented so that the validator accepts and refuses exactly what the API server
// does, with the same messages, plus the API server's own refusal of TZ= and CRON_TZ= prefixes. Its quirks are
// kept: empty list parts are skipped (`1,,2`), `*` or `?` followed by a range end reads as `*` (`*-5`), `N/s` means
// `N-max/s`, numbers take a sign (`+5`) and leading zeros, names (`jan`, `mon`) are case-insensitive. The values
// come out as sets; which day rule applies (either day field, or both) follows robfig: both fields restricted,
// that is neither holds a `*` or `?` part (a `*/s` with s > 1 is a restriction), means either may match.
import type { ScheduleDefinition } from '../api/types.ts';
import type { CrontabFieldName } from './crontab-parse.ts';
import { parseGoDuration } from './go-duration.ts';
import type { CrontabSets } from './wall-calendar.ts';

/** The five fields in their order in the string. */
export const CRON_JOB_FIELDS: readonly CrontabFieldName[] = [
  'minute',
  'hour',
  'dayOfMonth',
  'monthOfYear',
  'dayOfWeek',
];

interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const BOUNDS: Readonly<Record<CrontabFieldName, Bounds>> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfMonth: { min: 1, max: 31 },
  monthOfYear: {
    min: 1,
    max: 12,
    names: {
      jan: 1,
      feb: 2,
      mar: 3,
      apr: 4,
      may: 5,
      jun: 6,
      jul: 7,
      aug: 8,
      sep: 9,
      oct: 10,
      nov: 11,
      dec: 12,
    },
  },
  dayOfWeek: { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } },
};

/** What a `cron` string means: matching wall times (the day fields' rule included), or a constant delay. */
export type CronJobSchedule =
  | { kind: 'calendar'; sets: CrontabSets; eitherDay: boolean }
  | { kind: 'every'; seconds: number };

export type CronJobParse =
  | { ok: true; schedule: CronJobSchedule }
  | { ok: false; message: string; field?: CrontabFieldName; text?: string };

/** The descriptors robfig's ParseStandard knows, as the five fields they stand for. */
const DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const EVERY = '@every ';
/** The longest interval the operator keeps (the interval kind's limit), in seconds. */
const MAX_EVERY_SECONDS = 36_500 * 86_400;

class FieldError extends Error {}

/** Go's whitespace as strings.Fields reads it, limited to ASCII (non-ASCII text is refused before). */
const GO_SPACE = /[\t\n\v\f\r ]+/;

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_LIMIT = 1n << 63n;

/** Go's strconv.Atoi on ASCII text: the value, or its error ("invalid syntax" or "value out of range"). */
function goAtoi(text: string): bigint | 'invalid syntax' | 'value out of range' {
  // Short strings take Go's fast path, which cannot overflow.
  if (text.length < 19) return /^[+-]?[0-9]+$/.test(text) ? BigInt(text) : 'invalid syntax';
  const neg = text[0] === '-';
  const digits = text[0] === '+' || neg ? text.slice(1) : text;
  if (digits === '') return 'invalid syntax';
  let n = 0n;
  // Scanned left to right: an overflow before a bad character is a range error.
  for (const c of digits) {
    if (c < '0' || c > '9') return 'invalid syntax';
    n = n * 10n + BigInt(c);
    if (n > UINT64_MAX) return 'value out of range';
  }
  if ((!neg && n >= INT64_LIMIT) || (neg && n > INT64_LIMIT)) return 'value out of range';
  return neg ? -n : n;
}

/** Go's strconv.Atoi, then robfig's refusal of negative numbers. */
function mustParseInt(text: string): number {
  const value = goAtoi(text);
  if (typeof value === 'string') {
    throw new FieldError(
      `failed to parse int from ${text}: strconv.Atoi: parsing ${goQuote(text)}: ${value}`,
    );
  }
  if (value < 0n) throw new FieldError(`negative number (${value}) not allowed: ${text}`);
  return Number(value);
}

const QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** Go's strconv.Quote of ASCII text, as its number errors show it. */
function goQuote(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.charCodeAt(0);
    out +=
      QUOTE_ESCAPES[c] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c);
  }
  return `${out}"`;
}

function parseIntOrName(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? mustParseInt(text);
}

/** One comma-separated part: its values and whether it is a `*` (robfig's star bit). */
function parseRange(expr: string, bounds: Bounds): { values: number[]; star: boolean } {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  const singleDigit = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, bounds);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, bounds);
    else throw new FieldError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    if (singleDigit) end = bounds.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new FieldError(`too many slashes: ${expr}`);
  if (start < bounds.min)
    throw new FieldError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new FieldError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end)
    throw new FieldError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new FieldError(`step of range should be a positive number: ${expr}`);
  const values: number[] = [];
  for (let v = start; v <= end; v += step) values.push(v);
  return { values, star };
}

function parseField(text: string, bounds: Bounds): { values: number[]; star: boolean } {
  const values = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    if (part === '') continue;
    const range = parseRange(part, bounds);
    for (const v of range.values) values.add(v);
    star ||= range.star;
  }
  return { values: [...values].sort((a, b) => a - b), star };
}

function parseFields(spec: string): CronJobParse {
  const words = spec.split(GO_SPACE).filter((w) => w !== '');
  if (words.length !== 5) {
    return { ok: false, message: `expected exactly 5 fields, found ${words.length}: [${words.join(' ')}]` };
  }
  const parsed: Partial<Record<CrontabFieldName, { values: number[]; star: boolean }>> = {};
  for (const [i, field] of CRON_JOB_FIELDS.entries()) {
    try {
      parsed[field] = parseField(words[i]!, BOUNDS[field]);
    } catch (err) {
      if (err instanceof FieldError) return { ok: false, message: err.message, field, text: words[i]! };
      throw err;
    }
  }
  const { minute, hour, dayOfMonth, monthOfYear, dayOfWeek } = parsed as Record<
    CrontabFieldName,
    { values: number[]; star: boolean }
  >;
  const sets: CrontabSets = {
    minute: minute.values,
    hour: hour.values,
    dayOfMonth: dayOfMonth.values,
    monthOfYear: monthOfYear.values,
    dayOfWeek: dayOfWeek.values,
  };
  return { ok: true, schedule: { kind: 'calendar', sets, eitherDay: !dayOfMonth.star && !dayOfWeek.star } };
}

function parseEvery(spec: string): CronJobParse {
  const duration = parseGoDuration(spec.slice(EVERY.length));
  if (typeof duration === 'string')
    return { ok: false, message: `failed to parse duration ${spec}: ${duration}` };
  // robfig/cron: at least a second, in whole seconds.
  const seconds = Number(duration < 1_000_000_000n ? 1n : duration / 1_000_000_000n);
  if (seconds > MAX_EVERY_SECONDS) {
    return { ok: false, message: `${spec}: an interval must be at most 36500 days` };
  }
  return { ok: true, schedule: { kind: 'every', seconds } };
}

/** Reads a `cron` string as a CronJob's schedule (validation messages name the part that is wrong). */
export function parseCronJobSchedule(spec: string): CronJobParse {
  if (spec === '') return { ok: false, message: 'empty spec string' };
  const foreign = /\P{ASCII}/u.exec(spec);
  if (foreign)
    return { ok: false, message: `"${foreign[0]}" is not an ASCII character (a cron string is ASCII)` };
  // The API server refuses any schedule holding TZ (TZ=… or CRON_TZ=… would override spec.timeZone).
  if (spec.includes('TZ'))
    return { ok: false, message: 'cannot use TZ or CRON_TZ in schedule, use spec.timeZone instead' };
  if (spec.startsWith('@')) {
    const fields = DESCRIPTORS[spec];
    if (fields !== undefined) return parseFields(fields);
    if (spec.startsWith(EVERY)) return parseEvery(spec);
    return { ok: false, message: `unrecognized descriptor: ${spec}` };
  }
  return parseFields(spec);
}

const cache = new Map<string, CronJobParse>();

/** parseCronJobSchedule, remembered per string: the beat compiles the same few strings for many tasks. */
export function cronJobSchedule(spec: string): CronJobParse {
  let parsed = cache.get(spec);
  if (parsed === undefined) {
    parsed = parseCronJobSchedule(spec);
    // Strings come from user input: bound the cache rather than grow it without limit.
    if (cache.size >= 10_000) cache.clear();
    cache.set(spec, parsed);
  }
  return parsed;
}

/** A full field is `*`; otherwise its values listed, which Celery reads as the same set. */
function celeryField(values: readonly number[], size: number): string {
  return values.length === size ? '*' : values.join(',');
}

/** The definition of a valid `cron` string, with its reading in celerybeat-redis's documented kinds. */
export function cronDefinition(expression: string): Extract<ScheduleDefinition, { kind: 'cron' }> {
  const parsed = cronJobSchedule(expression);
  if (!parsed.ok) throw new RangeError(`cron "${expression}": ${parsed.message}`);
  const s = parsed.schedule;
  if (s.kind === 'every') return { kind: 'cron', expression, documented: { intervalSeconds: s.seconds } };
  const { minute, hour, dayOfWeek, dayOfMonth, monthOfYear } = s.sets;
  return {
    kind: 'cron',
    expression,
    documented: {
      crontab: {
        minute: celeryField(minute, 60),
        hour: celeryField(hour, 24),
        day_of_week: celeryField(dayOfWeek, 7),
        day_of_month: celeryField(dayOfMonth, 31),
        month_of_year: celeryField(monthOfYear, 12),
      },
    },
  };
}
