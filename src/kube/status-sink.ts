import type { ConditionStatus, PeriodicTaskStatus } from '../api/types.ts';

/** The Ready condition as the reconciler and the beat see it; transition times are the sink's business. */
export interface ReadyCondition {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** A partial status: only the fields set here are written; `ready` replaces the Ready condition. */
export type StatusUpdate = Omit<PeriodicTaskStatus, 'conditions'> & { ready?: ReadyCondition };

/**
 * Status write-back. `report` never blocks and never throws: updates are merged per resource (latest
 * wins) and written later, within the API rate limit. `flush` writes what is pending now (shutdown).
 */
export interface StatusSink {
  report(namespace: string, name: string, update: StatusUpdate): void;
  flush(): Promise<void>;
}

/** The object as last seen (the informer cache's `get`), to keep transition times and skip no-op writes. */
export interface ObservedObject {
  metadata: { uid?: string };
  status?: PeriodicTaskStatus;
}

export type CurrentStatusLookup = (namespace: string, name: string) => ObservedObject | undefined;
