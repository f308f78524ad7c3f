// A StatusSink that keeps every report, so tests can read what the status layer was told.
import type { StatusSink, StatusUpdate } from '../../../src/contracts.ts';

export interface StatusReport {
  namespace: string;
  name: string;
  update: StatusUpdate;
}

export class RecordingStatusSink implements StatusSink {
  readonly reports: StatusReport[] = [];
  flushes = 0;
  /** Called on every flush (to record the order of shutdown steps). */
  onFlush: (() => void) | undefined;

  report(namespace: string, name: string, update: StatusUpdate): void {
    this.reports.push({ namespace, name, update });
  }

  async flush(): Promise<void> {
    this.flushes += 1;
    this.onFlush?.();
  }

  /** The reports about one resource merged the way the real sink merges them (latest wins per field). */
  merged(namespace: string, name: string): StatusUpdate {
    return Object.assign(
      {},
      ...this.reports.filter((r) => r.namespace === namespace && r.name === name).map((r) => r.update),
    ) as StatusUpdate;
  }
}
