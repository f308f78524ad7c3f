// The process's one Prometheus registry. Labels never carry a task's identity: a cluster with 100,000
// schedules must not produce 100,000 series. Per-task facts live in the PeriodicTask status instead.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

/**
 * Scheduled slots and manual runs (run-now, backfill) alike. result: `published`, `failed` (broker error, slot released), `unknown` (sent but never confirmed, or a claim
 * found abandoned under way: kept, not sent again, not a run), `store_unavailable` (Redis refused the batch or
 * could not be reached), `duplicate` (slot already claimed), `expired`, `error` (a defect).
 */
export const dispatchesTotal = new Counter({
  name: 'celerybeat_dispatches_total',
  help: 'Dispatch attempts of due slots and manual runs, by result.',
  labelNames: ['result'] as const,
  registers,
});

/** Seconds between a slot's scheduled time and the moment its message was published. */
export const dispatchLatenessSeconds = new Histogram({
  name: 'celerybeat_dispatch_lateness_seconds',
  help: 'Delay between a slot and its publication, in seconds.',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers,
});

const SCHEDULE_STATES = ['scheduled', 'disabled', 'completed', 'invalid'] as const;

let schedulesProvider: () => Record<(typeof SCHEDULE_STATES)[number], number> = () => ({
  scheduled: 0,
  disabled: 0,
  completed: 0,
  invalid: 0,
});

/** The reconciler registers how to count its tasks by state; the gauge is computed at scrape time. */
export function observeSchedules(provider: typeof schedulesProvider): void {
  schedulesProvider = provider;
}

/** state: `scheduled`, `disabled`, `completed`, `invalid`; counted from the live state at each scrape. */
export const schedules = new Gauge({
  name: 'celerybeat_schedules',
  help: 'Known schedules, by state.',
  labelNames: ['state'] as const,
  registers,
  collect() {
    const counts = schedulesProvider();
    for (const state of SCHEDULE_STATES) this.set({ state }, counts[state]);
  },
});

/**
 * Times a PeriodicTask was found violating a policy (each distinct violation once), by namespace and the
 * policy's mode (`Enforce`: not scheduled; `Warn`: runs). Namespaces, never tasks: the series stay few.
 */
export const policyViolationsTotal = new Counter({
  name: 'celerybeat_policy_violations_total',
  help: 'PeriodicTasks found violating a PeriodicTaskPolicy, by namespace and mode.',
  labelNames: ['task_namespace', 'mode'] as const,
  registers,
});

export const missedRunsTotal = new Counter({
  name: 'celerybeat_missed_runs_total',
  help: 'Slots skipped because they could not be published in time.',
  registers,
});

/** reason `overlap`: a Forbid task whose previous run had not finished. */
export const skippedRunsTotal = new Counter({
  name: 'celerybeat_skipped_runs_total',
  help: 'Slots not sent on purpose (also counted as missed runs), by reason.',
  labelNames: ['reason'] as const,
  registers,
});

/** state: each state a run was seen in (RETRY may be counted once per retry state seen). */
export const runResultsTotal = new Counter({
  name: 'celerybeat_run_results_total',
  help: 'Results of sent runs read from the result backend, by Celery state.',
  labelNames: ['state'] as const,
  registers,
});

export const runDurationSeconds = new Histogram({
  name: 'celerybeat_run_duration_seconds',
  help: 'Time from publishing a run to its result (date_done), queue time included.',
  buckets: [0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
  registers,
});

export const pausedRunsTotal = new Counter({
  name: 'celerybeat_paused_runs_total',
  help: 'Slots that fell inside a pause (spec.pause); not counted as missed.',
  registers,
});

/**
 * Slots recorded per namespace (a namespace label, never a task's): `published` runs, `missed` and `paused`
 * slots; what one namespace gets next to the others.
 */
export const namespaceThrottledTotal = new Counter({
  name: 'celerybeat_namespace_throttled_total',
  help: "Due runs held back by their namespace's maxRunsPerSecond (each time one waits for its turn).",
  labelNames: ['task_namespace'] as const,
  registers,
});

export const namespaceSlotsTotal = new Counter({
  name: 'celerybeat_namespace_slots_total',
  help: 'Slots recorded per namespace: published runs, missed and paused slots.',
  labelNames: ['task_namespace', 'outcome'] as const,
  registers,
});

/** Run state rebuilt from a resource's status because its Redis key was gone and no process knew it. */
export const runStateRecoveriesTotal = new Counter({
  name: 'celerybeat_run_state_recoveries_total',
  help: 'Task keys re-created with run state read back from the resource status (the key was gone from Redis and no run state was in memory).',
  registers,
});

/** Runs sent revoked by concurrencyPolicy Replace. */
export const replacedRunsTotal = new Counter({
  name: 'celerybeat_replaced_runs_total',
  help: 'Unfinished runs revoked (terminated) because concurrencyPolicy Replace sent a new one.',
  registers,
});

export const leader = new Gauge({
  name: 'celerybeat_leader',
  help: '1 while this process does leader work (reconcile, dispatch, status), in every leader-election mode.',
  registers,
});

/** Same meaning as `celerybeat_leader`, under the name controller-runtime dashboards look for. */
export const leaderElectionMasterStatus = new Gauge({
  name: 'leader_election_master_status',
  help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
  labelNames: ['name'] as const,
  registers,
});

/** The one place the leader gauges are set: by the operator, whenever it starts or stops leader work. */
export function setLeaderGauges(leading: boolean): void {
  leader.set(leading ? 1 : 0);
  leaderElectionMasterStatus.set({ name: 'celerybeat-operator' }, leading ? 1 : 0);
}

/** result: `success` or `error`; one reconcile is one pass of the whole desired set into the store. */
export const reconcileTotal = new Counter({
  name: 'celerybeat_reconcile_total',
  help: 'Reconcile passes, by result.',
  labelNames: ['result'] as const,
  registers,
});

export const reconcileErrorsTotal = new Counter({
  name: 'celerybeat_reconcile_errors_total',
  help: 'Errors while reconciling a task into the store (one per failed task).',
  registers,
});

/** reason: `expired` (410 Gone, relist), `error` (connection or HTTP failure), `stalled` (watchdog). */
export const watchRestartsTotal = new Counter({
  name: 'celerybeat_watch_restarts_total',
  help: 'Restarts of the PeriodicTask watch other than normal server-side timeouts, by reason.',
  labelNames: ['reason'] as const,
  registers,
});

export const watchSynced = new Gauge({
  name: 'celerybeat_watch_synced',
  help: '1 while the PeriodicTask cache is synced with the API server, else 0.',
  registers,
});

let statusLagProvider: () => number = () => 0;

/** The status writer registers how to read its lag; the gauge is computed at scrape time. */
export function observeStatusLag(provider: () => number): void {
  statusLagProvider = provider;
}

export const statusLagSeconds = new Gauge({
  name: 'celerybeat_status_lag_seconds',
  help: 'Age of the oldest status update not yet written to the API server (0 when none is pending).',
  registers,
  collect() {
    this.set(statusLagProvider());
  },
});

/** result: `written`, `unchanged` (nothing to write), `gone` (404), `retry` (409, 429, 5xx, network). */
export const statusWritesTotal = new Counter({
  name: 'celerybeat_status_writes_total',
  help: 'Status write-back attempts, by result.',
  labelNames: ['result'] as const,
  registers,
});

let unreadableKeys = 0;
let invalidHandWrittenKeys = 0;

/** Keys under the prefix that are not JSON objects (the prune scan). */
export const invalidStoreKeys = {
  set(count: number): void {
    unreadableKeys = count;
  },
};

/** Hand-written keys that do not validate as a schedule (the `--redis-schedules` scan). */
export const handWrittenInvalidKeys = {
  set(count: number): void {
    invalidHandWrittenKeys = count;
  },
};

export const storeInvalidKeys = new Gauge({
  name: 'celerybeat_store_invalid_keys',
  help: 'Keys under the key prefix that could not be read as a schedule at the last scan (not JSON, or a hand-written key that does not validate).',
  registers,
  collect() {
    this.set(unreadableKeys + invalidHandWrittenKeys);
  },
});

/** Errors no layer handled (an unhandled rejection): always a defect, never expected in operation. */
export const internalErrorsTotal = new Counter({
  name: 'celerybeat_internal_errors_total',
  help: 'Errors that escaped every handler (defects); the process carries on.',
  registers,
});
