// V8's defaults suit a browser tab on a large machine: the young generation grows up to 32 MB per
// semi-space whenever a burst survives a scavenge, and the old generation is allowed to fill with garbage
// up to several times the live size before a full collection. For the beat, which allocates steadily (each
// dispatch, each status report) around a live set of a few KB per schedule, that made the resident size
// four to six times the live heap (230 MB at 10,000 schedules with 38 MB live) and dependent on the machine
// rather than on the number of schedules. Favouring size keeps it near the live set for a few percent more
// collection work (README: Performance; the figures are from test/bench/memory.bench.ts).
import { setFlagsFromString } from 'node:v8';

/** Called by the entry point before anything else is loaded, so every allocation is made under these rules. */
export function tuneHeapForSize(): void {
  // The growth factor is read at each resize (the semi-space maximum is fixed when the heap is created).
  setFlagsFromString('--semi-space-growth-factor=1');
  // Read at every full collection: a smaller growth of the old generation's limit after each.
  setFlagsFromString('--optimize-for-size');
}
