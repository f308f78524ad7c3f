// A wall-clock time in an IANA zone as an instant, the way Python reads `datetime(..., tzinfo=ZoneInfo(z))`
// with fold=0: in a repeated hour the first occurrence, in a skipped one the offset before the change. The
// zone rules are the schedule engine's (src/schedule/zone.ts).
import { zoneFor } from '../schedule/zone.ts';

/** `wallMs` is the wall time written as if it were UTC (Date.UTC of its fields). */
export function wallTimeToInstant(wallMs: number, zone: string): number {
  const resolved = zoneFor(zone).resolve(wallMs);
  return resolved.kind === 'exists' ? resolved.first : resolved.shifted;
}
