// What every reader hands over: one schedule of the source, either as a PeriodicTask spec with the run state
// it carries, or as the reason it cannot be expressed. Names are the source's own; making them DNS-safe is
// done once for all readers (dns-names.ts).
import type { PeriodicTaskSpec } from '../api/types.ts';

export type SourceEntry =
  | {
      ok: true;
      /** The schedule's name in the source (a RedBeat entry name, a django-celery-beat row name, …). */
      name: string;
      spec: PeriodicTaskSpec;
      /** Epoch ms of the last run, null when it never ran (or the source keeps no run state). */
      lastRunAt: number | null;
      totalRunCount: number;
    }
  | { ok: false; name: string; problem: string };

/** Thrown by the mappers for a part of an entry that has no PeriodicTask equivalent; caught per entry. */
export class UnsupportedError extends Error {}

/** The entry for `name`, or its problem when building the spec throws an UnsupportedError. */
export function entryOf(
  name: string,
  build: () => { spec: PeriodicTaskSpec; lastRunAt: number | null; totalRunCount: number },
): SourceEntry {
  try {
    return { ok: true, name, ...build() };
  } catch (error) {
    if (error instanceof UnsupportedError) return { ok: false, name, problem: error.message };
    throw error;
  }
}

/** Absent, or the empty list / mapping Celery uses by default: left out of the spec. */
export function isEmpty(value: unknown, empty: [] | Record<string, never>): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(empty)) return Array.isArray(value) && value.length === 0;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}
