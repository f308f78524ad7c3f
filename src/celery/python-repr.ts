// `argsrepr` / `kwargsrepr`: the text Celery 5.x puts in these headers is `celery.utils.saferepr.saferepr(value,
// 1024)`, not Python's `repr`: strings in single quotes with only `'` escaped, containers deeper than 3 levels
// shown as `[...]`/`{...}`, and output cut at about 1024 characters with `...`. Workers only log these strings,
// but monitoring tools (Flower, events) show them, so we produce the same text for JSON-decoded values.
import { isPlainObject } from '../api/plain-object.ts';

/** Celery's `argsrepr_maxsize` and `kwargsrepr_maxsize`. */
export const REPR_MAX_LENGTH = 1024;
const MAX_LEVELS = 3;

type Token =
  | { kind: 'literal'; text: string; truncatable: boolean; depth: -1 | 0 | 1 }
  | { kind: 'key'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'text'; text: string };

const LIST_START: Token = { kind: 'literal', text: '[', truncatable: false, depth: 1 };
const LIST_END: Token = { kind: 'literal', text: ']', truncatable: false, depth: -1 };
const DICT_START: Token = { kind: 'literal', text: '{', truncatable: false, depth: 1 };
const DICT_END: Token = { kind: 'literal', text: '}', truncatable: false, depth: -1 };
const KEY_SEP: Token = { kind: 'literal', text: ': ', truncatable: true, depth: 0 };
const ITEM_SEP: Token = { kind: 'literal', text: ', ', truncatable: true, depth: 0 };

interface StreamState {
  level: number;
  /** Set once the length budget is spent: containers not yet opened are skipped, not expanded. */
  draining: boolean;
}

function* tokens(value: unknown, state: StreamState): Generator<Token> {
  if (Array.isArray(value) || isPlainObject(value)) {
    if (state.draining) return;
    const isList = Array.isArray(value);
    if (state.level >= MAX_LEVELS) {
      yield { kind: 'text', text: isList ? '[...]' : '{...}' };
      return;
    }
    yield isList ? LIST_START : DICT_START;
    if (isList) {
      for (let i = 0; i < value.length; i++) {
        if (i > 0) yield ITEM_SEP;
        yield* tokens(value[i], state);
      }
    } else {
      let first = true;
      for (const [k, v] of Object.entries(value)) {
        if (!first) yield ITEM_SEP;
        first = false;
        yield { kind: 'key', text: k };
        yield KEY_SEP;
        yield* tokens(v, state);
      }
    }
    yield isList ? LIST_END : DICT_END;
    return;
  }
  if (typeof value === 'string') yield { kind: 'string', text: value };
  else yield { kind: 'text', text: scalarText(value) };
}

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pythonNumberText(value);
  return String(value);
}

/**
 * How Python prints the number it gets when it decodes our JSON: an integral value below 1e21 is written by
 * JSON.stringify without a fraction and decodes to a Python int; anything else decodes to a float, printed with
 * the shortest round-trip digits, in exponent form when the exponent is below -4 or at least 16.
 */
export function pythonNumberText(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return Object.is(n, -0) ? '0' : n.toFixed(0);
  const [mantissa = '', expText = '0'] = n.toExponential().split('e');
  const exponent = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let text: string;
  if (exponent < -4 || exponent >= 16) {
    const frac = digits.slice(1);
    const sign = exponent < 0 ? '-' : '+';
    text = `${digits[0]}${frac ? `.${frac}` : ''}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  } else if (exponent < 0) {
    text = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  } else if (digits.length > exponent + 1) {
    text = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    text = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  }
  return negative ? `-${text}` : text;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Python's len(): code points, not UTF-16 units. */
function pyLength(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Python's text[:n]. */
function pySlice(text: string, n: number): string {
  const head = text.slice(0, 2 * n);
  if (!SURROGATE.test(head)) return head.slice(0, n);
  return Array.from(head).slice(0, n).join('');
}

/** celery.utils.text.truncate: cut at `maxLength` code points, back to the last space, and add '...'. */
function truncate(text: string, maxLength: number): string {
  if (text.length < maxLength || pyLength(text) < maxLength) return text;
  const head = pySlice(text, maxLength);
  const space = head.lastIndexOf(' ');
  return `${space === -1 ? head : head.slice(0, space)}...`;
}

function quoted(text: string, maxLength: number): string {
  return `'${truncate(text, maxLength).replaceAll("'", "\\'")}'`;
}

/**
 * The untruncated text, or undefined once it reaches `maxLength`. Output shorter than the budget is exactly
 * what the streaming algorithm gives (no token can have hit the budget), so most calls end here.
 */
function shortRepr(value: unknown, level: number, room: number): string | undefined {
  if (typeof value === 'string') {
    return value.length + 2 < room ? `'${value.replaceAll("'", "\\'")}'` : undefined;
  }
  if (Array.isArray(value) || isPlainObject(value)) {
    const isList = Array.isArray(value);
    if (level >= MAX_LEVELS) return isList ? '[...]' : '{...}';
    let out = isList ? '[' : '{';
    if (isList) {
      for (let i = 0; i < value.length; i++) {
        const item = shortRepr(value[i], level + 1, room - out.length - 2);
        if (item === undefined) return undefined;
        out += i > 0 ? `, ${item}` : item;
      }
    } else {
      for (const k in value) {
        if (!Object.hasOwn(value, k)) continue;
        const key = shortRepr(k, level + 1, room - out.length - 2);
        const item =
          key === undefined ? undefined : shortRepr(value[k], level + 1, room - out.length - key.length - 4);
        if (item === undefined) return undefined;
        out += `${out.length > 1 ? ', ' : ''}${key}: ${item}`;
      }
    }
    out += isList ? ']' : '}';
    return out.length < room ? out : undefined;
  }
  const text = scalarText(value);
  return text.length < room ? text : undefined;
}

/** The `argsrepr`/`kwargsrepr` text Celery would write for this JSON value. */
export function celerySaferepr(value: unknown, maxLength = REPR_MAX_LENGTH): string {
  const short = shortRepr(value, 0, maxLength);
  if (short !== undefined) return short;
  const state: StreamState = { level: 0, draining: false };
  const stream = tokens(value, state);
  let budget = maxLength;
  let out = '';
  for (const token of stream) {
    if (budget <= 0) {
      // Budget spent: the current token is dropped, then only the closing brackets still owed are written.
      out += ', ...';
      state.draining = true;
      for (const rest of stream) {
        if (rest.kind === 'literal' && !rest.truncatable) out += rest.text;
      }
      break;
    }
    let text: string;
    if (token.kind === 'literal') {
      state.level += token.depth;
      text = token.text;
    } else if (token.kind === 'key' || token.kind === 'string') {
      text = quoted(token.text, budget);
    } else {
      text = truncate(token.text, budget);
    }
    out += text;
    budget -= pyLength(text);
  }
  return out;
}
