// Go's time.ParseDuration, which a CronJob's `@every <duration>` goes through: a sign, then one or more
// decimal numbers each with a unit (ns, us, ms, s, m, h), such as "1h30m" or "1.5s"; "0" alone is zero. Exact in
// nanoseconds (BigInt), with Go's overflow and error messages. The micro sign spellings of "us" are not ASCII,
// which a cron string must be.

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const LIMIT = 1n << 63n;

/** Go's time package quoting in its messages: control characters as \\xNN, quotes and backslashes escaped. */
function quote(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.charCodeAt(0);
    if (code < 0x20) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c === '"' || c === '\\' ? `\\${c}` : c;
  }
  return `${out}"`;
}

/** Nanoseconds, or Go's error text. */
export function parseGoDuration(orig: string): bigint | string {
  const invalid = `time: invalid duration ${quote(orig)}`;
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return invalid;
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    if (!/^[0-9.]/.test(s) || (m[1] === '' && (m[2] ?? '') === '')) return invalid;
    const whole = m[1] === '' ? 0n : BigInt(m[1]!);
    if (whole > LIMIT) return invalid;
    const fraction = m[2] ?? '';
    s = s.slice(m[0].length);
    const unitText = /^[^0-9.]*/.exec(s)![0];
    if (unitText === '') return `time: missing unit in duration ${quote(orig)}`;
    s = s.slice(unitText.length);
    const unit = UNITS[unitText];
    if (unit === undefined) return `time: unknown unit ${quote(unitText)} in duration ${quote(orig)}`;
    if (whole > LIMIT / unit) return invalid;
    let v = whole * unit;
    if (fraction !== '') {
      // Go's leadingFraction: digits while they fit, then the fraction through a float64.
      let f = 0n;
      let scale = 1;
      for (const c of fraction) {
        const y = f * 10n + BigInt(c);
        if (f > (LIMIT - 1n) / 10n || y > LIMIT) break;
        f = y;
        scale *= 10;
      }
      if (f > 0n) v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) return invalid;
    }
    total += v;
    if (total > LIMIT) return invalid;
  }
  if (neg) return -total;
  if (total > LIMIT - 1n) return invalid;
  return total;
}
