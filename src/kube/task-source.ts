import type { PeriodicTask } from '../api/types.ts';

/**
 * The desired set of PeriodicTask objects, from the API server or from manifest files.
 * `onChange` is a level signal: "the set may have changed, read `list()` again". Calls are
 * coalesced, so a burst of edits gives one call, never one per object.
 */
export interface TaskSource {
  /** Starts watching; resolves once the source is running (not necessarily synced). */
  start(onChange: () => void): Promise<void>;
  /** The whole current set; objects are shared with the cache and must not be mutated. */
  list(): PeriodicTask[];
  /** True once the first full read completed and the source is not broken beyond its grace period. */
  synced(): boolean;
  /**
   * False while part of the desired set could not be read at all (a manifest file that never parsed):
   * keys that look orphaned may then belong to it, so they are not pruned. Absent means always complete.
   */
  complete?(): boolean;
  stop(): Promise<void>;
}
