// A wall-clock time in an IANA zone as an instant, the way Python reads `datetime(..., tzinfo=ZoneInfo(z))`
// with fold=0: in a repeated hour the first occurrence, in a skipped one the offset before the change.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function isIanaZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms. */
function offsetAt(instant: number, zone: string): number {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

/** `wallMs` is the wall time written as if it were UTC (Date.UTC of its fields). */
export function wallTimeToInstant(wallMs: number, zone: string): number {
  const day = 86_400_000;
  const before = offsetAt(wallMs - day, zone);
  const after = offsetAt(wallMs + day, zone);
  const valid = [wallMs - before, wallMs - after].filter((t) => offsetAt(t, zone) === wallMs - t);
  // Both valid: a repeated hour, fold=0 is the earlier. None: a skipped hour, read with the earlier offset.
  return valid.length > 0 ? Math.min(...valid) : wallMs - before;
}
