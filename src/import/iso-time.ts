// Instants in the documents: RFC 3339 in UTC, without a fraction when it is zero (2026-12-24T18:00:00Z).
export function isoInstant(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z');
}
