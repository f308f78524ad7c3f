// The name patterns of a PeriodicTaskPolicy: `*` stands for any run of characters (dots and slashes
// included), everything else is itself. No other metacharacter: queue and task names hold dots, brackets and
// question marks that must not turn a pattern into something broader than it reads.

/** Whether `value` is `pattern`, where each `*` stands for any run of characters. */
export function matchesPattern(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0] ?? '';
  const last = parts.at(-1) ?? '';
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  // The middle parts, each at its earliest place after the previous: a greedy scan finds a match if any exists.
  let at = first.length;
  const end = value.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = value.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** Whether any of the patterns matches `value`. */
export function matchesAny(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => matchesPattern(p, value));
}
