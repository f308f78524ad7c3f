// Celery 5.2's crontab field parser (celery.schedules.crontab_parser), reimplemented: the same accepted
// patterns, the same value sets, and Celery's error text alongside a message that names the bad value.

export type CrontabFieldName = 'minute' | 'hour' | 'dayOfWeek' | 'dayOfMonth' | 'monthOfYear';

/** Inclusive value ranges per field; day of week 0 = Sunday … 6 = Saturday (7 is rejected, as in Celery). */
export const FIELD_RANGES: Readonly<Record<CrontabFieldName, { min: number; max: number }>> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfWeek: { min: 0, max: 6 },
  dayOfMonth: { min: 1, max: 31 },
  monthOfYear: { min: 1, max: 12 },
};

const WEEKDAYS: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

export type ParseResult =
  | { ok: true; values: number[] }
  | { ok: false; message: string; celeryMessage: string };

class FieldParseError extends Error {
  readonly celeryMessage: string;
  constructor(message: string, celeryMessage: string) {
    super(message);
    this.celeryMessage = celeryMessage;
  }
}

/** A number or a weekday name matched on its first three letters, in any field (Celery's `_expand_number`). */
function expandNumber(token: string, min: number, max: number): number {
  let value: number;
  if (/^[0-9]+$/.test(token)) {
    value = Number.parseInt(token, 10);
  } else {
    const day = WEEKDAYS[token.slice(0, 3).toLowerCase()];
    if (day === undefined) {
      throw new FieldParseError(
        `"${token}" is not a number or a weekday name (month names are not accepted, as in Celery 5.2)`,
        `Invalid weekday literal '${token}'.`,
      );
    }
    value = day;
  }
  if (value > max)
    throw new FieldParseError(
      `${token} is out of range ${min}-${max}`,
      `Invalid end range: ${value} > ${max}.`,
    );
  if (value < min)
    throw new FieldParseError(
      `${token} is out of range ${min}-${max}`,
      `Invalid beginning range: ${value} < ${min}.`,
    );
  return value;
}

function span(from: number, toInclusive: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= toInclusive; v++) out.push(v);
  return out;
}

/** `a-b`; an end below the start wraps around the field's range (`fri-mon`, minute `50-10`). */
function expandRange(fromToken: string, toToken: string, min: number, max: number): number[] {
  const from = expandNumber(fromToken, min, max);
  const to = expandNumber(toToken, min, max);
  return to < from ? [...span(from, max), ...span(min, to)] : span(from, to);
}

/** Every step-th element of the list, starting with the first (Python's `list[::step]`). */
function everyNth(values: number[], stepToken: string): number[] {
  const step = Number.parseInt(stepToken, 10);
  if (step === 0) throw new FieldParseError('the step must not be zero', 'slice step cannot be zero');
  return values.filter((_, i) => i % step === 0);
}

const RANGE_STEP = /^([0-9A-Za-z]+)-([0-9A-Za-z]+)\/([0-9]+)$/;
const RANGE = /^([0-9A-Za-z]+)-([0-9A-Za-z]+)$/;
const STAR_STEP = /^\*\/([0-9]+)$/;

function expandPart(part: string, min: number, max: number): number[] {
  if (part === '')
    throw new FieldParseError('empty part (two commas in a row, or a comma at an end)', 'empty part');
  if (part === '*') return span(min, max);
  const starStep = STAR_STEP.exec(part);
  if (starStep) return everyNth(span(min, max), starStep[1]!);
  const rangeStep = RANGE_STEP.exec(part);
  if (rangeStep) return everyNth(expandRange(rangeStep[1]!, rangeStep[2]!, min, max), rangeStep[3]!);
  const range = RANGE.exec(part);
  if (range) return expandRange(range[1]!, range[2]!, min, max);
  if (part.includes('/')) {
    throw new FieldParseError(
      `"${part}": a step needs * or a range before it (write */15 or 5-59/15)`,
      `Invalid weekday literal '${part}'.`,
    );
  }
  return [expandNumber(part, min, max)];
}

/** Parses one Celery crontab field into its sorted set of values. */
export function parseCrontabField(text: string, field: CrontabFieldName): ParseResult {
  const { min, max } = FIELD_RANGES[field];
  try {
    const values = new Set<number>();
    for (const part of text.split(',')) for (const v of expandPart(part, min, max)) values.add(v);
    return { ok: true, values: [...values].sort((a, b) => a - b) };
  } catch (err) {
    if (err instanceof FieldParseError)
      return { ok: false, message: err.message, celeryMessage: err.celeryMessage };
    throw err;
  }
}

/** The `cron` shorthand's field order: minute hour dayOfMonth monthOfYear dayOfWeek. */
export const CRON_FIELD_ORDER: readonly CrontabFieldName[] = [
  'minute',
  'hour',
  'dayOfMonth',
  'monthOfYear',
  'dayOfWeek',
];

/** Splits a cron string into crontab fields, or null when it does not have exactly five. */
export function splitCron(cron: string): Record<CrontabFieldName, string> | null {
  const words = cron.trim().split(/\s+/);
  if (words.length !== 5) return null;
  return {
    minute: words[0]!,
    hour: words[1]!,
    dayOfMonth: words[2]!,
    monthOfYear: words[3]!,
    dayOfWeek: words[4]!,
  };
}
