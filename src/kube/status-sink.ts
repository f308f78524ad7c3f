import type { ConditionStatus, PeriodicTaskStatus } from '../api/types.ts';

/** The Ready condition as the reconciler and the beat see it; transition times are the sink's business. */
export interface ReadyCondition {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** A partial status: only the fields set here are written; `ready` replaces the Ready condition. */
export interface StatusUpdate {
  lastRunAt?: string;
  totalRunCount?: number;
  lastTaskId?: string;
  nextRunAt?: string;
  missedRunCount?: number;
  observedGeneration?: number;
  ready?: ReadyCondition;
}

/**
 * Status write-back. `report` never blocks and never throws: updates are merged per resource (latest
 * wins) and written later, within the API rate limit. `flush` writes what is pending now (shutdown).
 */
export interface StatusSink {
  report(namespace: string, name: string, update: StatusUpdate): void;
  flush(): Promise<void>;
}

/** The status the sink last saw for a resource (from the informer cache), to keep transition times. */
export type CurrentStatusLookup = (namespace: string, name: string) => PeriodicTaskStatus | undefined;
