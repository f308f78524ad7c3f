// Celery 5.2's crontab field parser (celery.schedules.crontab_parser), reimplemented: the same accepted
// strings, the same value sets, and Celery's error text alongside a message that names the bad value. Celery
// matches each comma-separated part by its beginning only and reads single numbers with Python's int(), so
// text after a range or a step is ignored ("*/2/3" is "*/2"), and a lone number may carry spaces or a sign
// (" 5", "+5"). Non-ASCII text is refused: Python would read Unicode digits that the API server's pattern and
// this parser do not know, from tables that differ between versions.

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

/** The ASCII whitespace Python's int() skips around a number (str.strip() would also take \x1c-\x1f). */
const PY_SPACE = ' \\t\\n\\v\\f\\r';
/** Python's int(text) in base 10 over ASCII: spaces around, a sign, digits with single underscores between. */
const PY_INT = new RegExp(`^[${PY_SPACE}]*([+-]?)([0-9]+(?:_[0-9]+)*)[${PY_SPACE}]*$`);

function pyInt(text: string): number | null {
  const m = PY_INT.exec(text);
  if (!m) return null;
  const value = Number.parseInt(m[2]!.replaceAll('_', ''), 10);
  return m[1] === '-' ? -value : value;
}

/** Python's repr() of an ASCII string, as Celery's messages show it. */
function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** A number (Python int()) or a weekday name matched on its first three letters, in any field (`_expand_number`). */
function expandNumber(token: string, min: number, max: number): number {
  if (token.startsWith('-')) {
    throw new FieldParseError(
      `"${token}": negative numbers are not accepted`,
      'negative numbers not supported',
    );
  }
  let value = pyInt(token);
  if (value === null) {
    const day = WEEKDAYS[token.slice(0, 3).toLowerCase()];
    if (day === undefined) {
      throw new FieldParseError(
        `"${token}" is not a number or a weekday name (month names are not accepted, as in Celery 5.2)`,
        `Invalid weekday literal ${pyRepr(token)}.`,
      );
    }
    value = day;
  }
  if (value > max)
    throw new FieldParseError(
      `${token.trim()} is out of range ${min}-${max}`,
      `Invalid end range: ${value} > ${max}.`,
    );
  if (value < min)
    throw new FieldParseError(
      `${token.trim()} is out of range ${min}-${max}`,
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

/** Every step-th element of the list, starting with the first (Python's `list[::int(step)]`). */
function everyNth(values: number[], stepToken: string): number[] {
  if (stepToken === '') throw new FieldParseError('a step is missing after "/"', 'empty filter');
  const step = pyInt(stepToken);
  if (step === null) {
    throw new FieldParseError(
      `the step "${stepToken}" is not a number`,
      `invalid literal for int() with base 10: ${pyRepr(stepToken)}`,
    );
  }
  if (step === 0) throw new FieldParseError('the step must not be zero', 'slice step cannot be zero');
  return values.filter((_, i) => i % step === 0);
}

// Celery's patterns, tried in this order and anchored at the start only (Python's re.match); \w is ASCII here.
const RANGE_STEP = /^([0-9A-Za-z_]+)-([0-9A-Za-z_]+)\/([0-9A-Za-z_]*)/;
const RANGE = /^([0-9A-Za-z_]+)-([0-9A-Za-z_]+)/;
const STAR_STEP = /^\*\/([0-9A-Za-z_]*)/;
/** Python's `$` also matches before a final newline. */
const STAR = /^\*\n?$/;

function expandPart(part: string, min: number, max: number): number[] {
  if (part === '')
    throw new FieldParseError('empty part (two commas in a row, or a comma at an end)', 'empty part');
  const rangeStep = RANGE_STEP.exec(part);
  if (rangeStep) {
    if (rangeStep[3] === '')
      throw new FieldParseError(`"${part}": a step is missing after "/"`, 'empty filter');
    return everyNth(expandRange(rangeStep[1]!, rangeStep[2]!, min, max), rangeStep[3]!);
  }
  const range = RANGE.exec(part);
  if (range) return expandRange(range[1]!, range[2]!, min, max);
  const starStep = STAR_STEP.exec(part);
  if (starStep) return everyNth(span(min, max), starStep[1]!);
  if (STAR.test(part)) return span(min, max);
  if (/^[0-9]+\//.test(part)) {
    throw new FieldParseError(
      `"${part}": a step needs * or a range before it (write */15 or 5-59/15)`,
      `Invalid weekday literal ${pyRepr(part)}.`,
    );
  }
  return [expandNumber(part, min, max)];
}

/** Parses one Celery crontab field into its sorted set of values. */
export function parseCrontabField(text: string, field: CrontabFieldName): ParseResult {
  const { min, max } = FIELD_RANGES[field];
  const foreign = /\P{ASCII}/u.exec(text);
  if (foreign) {
    const message = `"${foreign[0]}" is not an ASCII character (a crontab field is ASCII)`;
    return { ok: false, message, celeryMessage: message };
  }
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
