// Standalone mode has no resource to write status to (the run state is in Redis): each change of the Ready
// condition is logged instead. Each run is logged by the beat ("task sent"), in every mode.

import { taskKey } from '../api/types.ts';
import type { StatusSink, StatusUpdate } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';

const MAX_SHARED_TEXTS = 1000;

export class LogStatusSink implements StatusSink {
  readonly #logger: Logger;
  readonly #ready = new Map<string, string>();
  /**
   * Each distinct Ready text once: most tasks share one, and a text per task would cost 100 bytes each at
   * 100,000 tasks. A cache only: clearing it when full loses sharing, never a log line.
   */
  readonly #texts = new Map<string, string>();

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
    this.#ready.set(key, this.#shared(readyText));
  }

  #shared(text: string): string {
    const known = this.#texts.get(text);
    if (known !== undefined) return known;
    if (this.#texts.size >= MAX_SHARED_TEXTS) this.#texts.clear();
    this.#texts.set(text, text);
    return text;
  }

  async flush(): Promise<void> {}
}
