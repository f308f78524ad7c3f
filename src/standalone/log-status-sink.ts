// Standalone mode has no resource to write status to (the run state is in Redis): each new run and each
// change of the Ready condition is logged instead.

import type { StatusSink, StatusUpdate } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';

export class LogStatusSink implements StatusSink {
  readonly #logger: Logger;
  readonly #seen = new Map<string, { runs: number; ready: string }>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  report(namespace: string, name: string, update: StatusUpdate): void {
    const key = `${namespace}/${name}`;
    const seen = this.#seen.get(key) ?? { runs: 0, ready: '' };
    const { lastRunAt, lastTaskId, totalRunCount = seen.runs, nextRunAt, ready } = update;
    if (totalRunCount > seen.runs && seen.ready !== '') {
      this.#logger.info({ namespace, name, lastRunAt, lastTaskId, totalRunCount, nextRunAt }, 'task sent');
    }
    const readyText = ready ? `${ready.status}/${ready.reason}/${ready.message}` : seen.ready;
    if (readyText !== seen.ready) {
      this.#logger.info({ namespace, name, ready, nextRunAt, totalRunCount }, 'task status');
    }
    this.#seen.set(key, { runs: totalRunCount, ready: readyText });
  }

  async flush(): Promise<void> {}
}
