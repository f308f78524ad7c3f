// concurrencyPolicy Forbid and Replace: whether the previous run has finished is read from the result
// backend (SUCCESS, FAILURE or REVOKED stored); a run with nothing stored yet is still queued or running.
import type { OverlapGuard, ResultBackend } from '../contracts.ts';
import { FINAL_STATES } from './result-meta.ts';

export class ResultOverlapGuard implements OverlapGuard {
  readonly #backend: ResultBackend;
  readonly #revoke: OverlapGuard['revoke'];

  /** `revoke`: the broadcast on the namespace's broker (the routed dispatcher's). */
  constructor(backend: ResultBackend, revoke: OverlapGuard['revoke']) {
    this.#backend = backend;
    this.#revoke = revoke;
  }

  async unfinished(taskIds: readonly string[]): Promise<Set<string>> {
    const results = await this.#backend.fetch(taskIds);
    return new Set(taskIds.filter((id) => !FINAL_STATES.has(results.get(id)?.state ?? 'PENDING')));
  }

  revoke(namespace: string, taskIds: readonly string[]): Promise<void> {
    return this.#revoke(namespace, taskIds);
  }
}
