// Times in Celery headers are Python `datetime.isoformat()` text of an aware UTC value:
// `2026-11-24T06:48:10.585000+00:00`, with the fraction left out when it is zero (as Python does).
// `+00:00` rather than `Z`: Python before 3.11 cannot parse `Z` with `datetime.fromisoformat`.

/** Python `isoformat()` of the UTC datetime at `epochMs` (fractions kept to the microsecond). */
export function pythonIsoUtc(epochMs: number): string {
  // The fraction apart from the whole milliseconds: epoch microseconds after 2255 pass MAX_SAFE_INTEGER.
  const wholeMs = Math.floor(epochMs);
  const fractionUs = Math.round((epochMs - wholeMs) * 1000);
  const date = new Date(wholeMs + Math.floor(fractionUs / 1000));
  const fraction = date.getUTCMilliseconds() * 1000 + (fractionUs % 1000);
  const iso = date.toISOString();
  if (iso.length !== 24 || iso.startsWith('0000'))
    throw new RangeError(`time ${epochMs} ms is outside the years 0001-9999 Python supports`);
  const seconds = iso.slice(0, 19);
  return fraction === 0 ? `${seconds}+00:00` : `${seconds}.${String(fraction).padStart(6, '0')}+00:00`;
}

// What Celery's `maybe_iso8601` accepts from us: a date, a time, optional fraction, and an offset or `Z`
// (a naive value would be read as UTC; we never send one).
const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/;

/** Epoch ms of an ISO-8601 header value, or NaN when a worker could not parse it. */
export function parseIsoHeader(value: string): number {
  if (!ISO_PATTERN.test(value)) return Number.NaN;
  const hasOffset = /(Z|[+-]\d{2}:\d{2})$/.test(value);
  return Date.parse(hasOffset ? value : `${value}Z`);
}
