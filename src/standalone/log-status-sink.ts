// Standalone mode has no resource to write status to (the run state is in Redis): each change of the Ready
// condition is logged instead. Each run is logged by the beat ("task sent"), in every mode.

import { SharedStrings } from '../api/shared-strings.ts';
import { taskKey } from '../api/types.ts';
import type { StatusSink, StatusUpdate } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';

export class LogStatusSink implements StatusSink {
  readonly #logger: Logger;
  readonly #ready = new Map<string, string>();
  /** Each distinct Ready text once: most tasks share one, and a text per task costs 100 bytes at 100,000. */
  readonly #texts = new SharedStrings(1000);

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  report(namespace: string, name: string, update: StatusUpdate): void {
    const key = taskKey(namespace, name);
    const seen = this.#ready.get(key) ?? '';
    const { nextRunAt, totalRunCount, ready } = update;
    const readyText = ready ? `${ready.status}/${ready.reason}/${ready.message}` : seen;
    if (readyText === seen) return;
    this.#logger.info({ namespace, name, ready, nextRunAt, totalRunCount }, 'task status');
    this.#ready.set(key, this.#texts.get(readyText) ?? readyText);
  }

  async flush(): Promise<void> {}
}
