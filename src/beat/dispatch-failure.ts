// A whole dispatch batch that failed because of the store, as the dispatchers know it: Redis refused the claims
// or could not be reached. The beat turns it into the affected tasks' Ready reason and a metric; a broker's
// failure is never a whole-batch one (it becomes each slot's publish-failed outcome).

/** Redis refused the batch (OOM, READONLY, a script error) or could not be reached. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** Runs `work` against the store; whatever it throws becomes a StoreUnavailableError. */
export async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
  }
}
