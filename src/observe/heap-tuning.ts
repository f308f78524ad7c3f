// V8 grows its young generation up to 32 MB per semi-space on a large machine whenever a burst of work
// survives a scavenge (a reconcile pass of 100,000 tasks, two dispatch batches in flight). The pages it takes
// then stay resident, so the process's size depends on the machine rather than on the number of schedules.
// Keeping the young generation at its initial size costs more scavenges of a small live set, and bounds the
// resident size to what the schedules need (README: Performance).
import { setFlagsFromString } from 'node:v8';

/** Stops the young generation from growing; called by the entry point before anything else is loaded. */
export function keepYoungGenerationSmall(): void {
  // The growth factor is read at each resize (the semi-space maximum is fixed when the heap is created).
  setFlagsFromString('--semi-space-growth-factor=1');
}
