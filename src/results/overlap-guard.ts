// concurrencyPolicy Forbid and Replace: whether the previous run has finished is read from the result
// backend (SUCCESS, FAILURE or REVOKED stored); a run with nothing stored yet is still queued or running.
import type { Broker, OverlapGuard, ResultBackend } from '../contracts.ts';
import { FINAL_STATES } from './result-meta.ts';

export class ResultOverlapGuard implements OverlapGuard {
  readonly #backend: ResultBackend;
  readonly #broker: Broker;

  constructor(backend: ResultBackend, broker: Broker) {
    this.#backend = backend;
    this.#broker = broker;
  }

  async unfinished(taskIds: readonly string[]): Promise<Set<string>> {
    const results = await this.#backend.fetch(taskIds);
    return new Set(taskIds.filter((id) => !FINAL_STATES.has(results.get(id)?.state ?? 'PENDING')));
  }

  revoke(taskIds: readonly string[]): Promise<void> {
    return this.#broker.revoke(taskIds);
  }
}
