// V8's defaults suit a browser tab on a large machine: the young generation grows whenever a burst survives
// a scavenge, and the old generation may fill with garbage up to several times the live size before a full
// collection. For the beat, which allocates steadily (each dispatch, each status report) around a small live
// set per schedule, that made the resident size several times the live heap and dependent on the machine
// rather than on the number of schedules. Favouring size keeps it near the live set.
// That has a price that grows with the live set and the dispatch rate: with very many schedules and runs the
// collector takes much of the time and the beat falls behind. So size is favoured only while the collector's
// pauses stay a small share of the time (a smaller one while the event loop is busy); past that, the young
// generation may grow to a bounded size and the old one by a bounded factor, and a run is never late to save
// memory (docs/performance.md, from test/bench/memory.bench.ts).
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';

/** Share of the time in collector pauses above which speed is favoured. */
export const TO_SPEED_SHARE = 0.25;
/**
 * While the event loop is busy (at least `BUSY_SHARE` of the time), a smaller share of pauses is enough: the
 * pauses measured are only part of the collector's cost on the main thread, and a busy beat has no time to
 * spare.
 */
export const BUSY_SHARE = 0.9;
export const BUSY_TO_SPEED_SHARE = 0.1;
/** Share below which size is favoured again, held for `TO_SIZE_WINDOWS` windows in a row while not busy. */
export const TO_SIZE_SHARE = 0.05;
export const TO_SIZE_WINDOWS = 6;
const WINDOW_MS = 10_000;
/**
 * Favouring speed, the old generation's limit grows to 1.2 × the live size after a full collection: a larger
 * factor kept up no better and held more memory resident.
 */
const SPEED_HEAP_GROWING_PERCENT = 20;

export type HeapMode = 'size' | 'speed';

/** Decides, window by window, from the share of the time spent in collector pauses and the loop's load. */
export class HeapGovernor {
  #mode: HeapMode = 'size';
  #quietWindows = 0;
  readonly #apply: (mode: HeapMode) => void;

  constructor(apply: (mode: HeapMode) => void) {
    this.#apply = apply;
    apply('size');
  }

  get mode(): HeapMode {
    return this.#mode;
  }

  /** One window: `pauseMs` of collector pauses in `elapsedMs`; `busy`, the event loop's utilisation (0–1). */
  window(pauseMs: number, elapsedMs: number, busy = 0): void {
    const share = elapsedMs > 0 ? pauseMs / elapsedMs : 0;
    const loaded = busy >= BUSY_SHARE;
    if (this.#mode === 'size') {
      if (share > TO_SPEED_SHARE || (loaded && share > BUSY_TO_SPEED_SHARE)) this.#switch('speed');
      return;
    }
    this.#quietWindows = share < TO_SIZE_SHARE && !loaded ? this.#quietWindows + 1 : 0;
    if (this.#quietWindows >= TO_SIZE_WINDOWS) this.#switch('size');
  }

  #switch(mode: HeapMode): void {
    this.#mode = mode;
    this.#quietWindows = 0;
    this.#apply(mode);
  }
}

/** Both flags are read at every full collection, so a switch takes effect at the next one. */
function applyMode(mode: HeapMode): void {
  if (mode === 'size') {
    setFlagsFromString('--optimize-for-size');
    setFlagsFromString('--heap-growing-percent=0');
    setFlagsFromString('--semi-space-growth-factor=1');
  } else {
    setFlagsFromString('--no-optimize-for-size');
    setFlagsFromString(`--heap-growing-percent=${SPEED_HEAP_GROWING_PERCENT}`);
    // With the young generation held at its first size, scavenges alone kept the collector busy; let it grow
    // to the maximum the entry point sets (`--max-semi-space-size`; a smaller one promotes so much that the
    // old generation grows more than the young one saves).
    setFlagsFromString('--semi-space-growth-factor=2');
  }
}

/** Called by the entry point before anything else is loaded, so every allocation is made under these rules. */
export function tuneHeapForSize(): void {
  // The semi-space growth factor (set by the mode) is read at each resize; the maximum is fixed when the heap
  // is created (the entry point's first line).
  const governor = new HeapGovernor(applyMode);
  let pauseMs = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauseMs += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  let from = performance.now();
  let loop = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.now();
    const since = performance.eventLoopUtilization(loop);
    loop = performance.eventLoopUtilization();
    governor.window(pauseMs, now - from, since.utilization);
    pauseMs = 0;
    from = now;
  }, WINDOW_MS).unref();
}
