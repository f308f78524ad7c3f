// What a soak run observed, in the shape the ledger reads: the tasks as they were declared over time, the run
// state Redis held (sampled), what the workers ran, the faults injected and the status read at the end. The
// driver fills it from the real parts; the ledger's unit tests write it by hand.

/** Which instants are a task's slots, as far as the ledger needs to count them. */
export type SlotRule =
  /** A grid of `everyMs` through the cursor (an interval, or a cron `@every`). */
  | { kind: 'interval'; everyMs: number }
  /** Every minute on the minute, UTC (a crontab or cron of `*` fields). */
  | { kind: 'minutely' }
  /** One slot at `at` (clocked). */
  | { kind: 'clocked'; at: number };

/** A stretch of time in which the task must not run: paused or disabled (`to` null: until the end). */
export interface Stop {
  kind: 'paused' | 'disabled';
  from: number;
  to: number | null;
}

/** One life of a PeriodicTask: from its creation to its deletion (a re-created task is another incarnation). */
export interface Incarnation {
  /** `<namespace>/<name>` */
  task: string;
  uid: string;
  rule: SlotRule;
  oneOff: boolean;
  createdAt: number;
  deletedAt: number | null;
  stops: Stop[];
  /** Each edit of `args[0]` (the definition's version) and when the API server took it, oldest first. */
  versions: Array<{ at: number; version: number }>;
}

/** The run state of one key as one sample read it (the run-state tail and the owner's uid). */
export interface StoredRunState {
  uid: string;
  cursor: number;
  total: number;
  missed: number;
  unknown: number;
  paused: number;
  /** A claim under way (claim-then-publish): its slot is claimed but not yet counted. */
  publishing: boolean;
}

/** One read of every task's key at `at` (state null: the key was absent). */
export interface RunSample {
  at: number;
  task: string;
  state: StoredRunState | null;
}

/** A task body a worker started (the `started` record of the test workers). */
export interface Execution {
  task: string;
  taskId: string;
  /** `periodic_task_scheduled_at`, epoch ms. */
  slot: number;
  /** `args[0]`: the definition's version the message was built from. */
  version: number;
  receivedAt: number | null;
  startedAt: number;
  /** False when the body never finished: its worker died under it. */
  finished: boolean;
  /** The worker's hostname, and when it was SIGKILLed (null: it never was). */
  worker: string;
  workerKilledAt: number | null;
}

/** One fault injected: its kind (the table's rows), when it began and when the parts were whole again. */
export interface Fault {
  type: string;
  start: number;
  end: number;
  detail: string;
}

/** A task's status and what it should show, read at the end of the run. */
export interface StatusReading {
  task: string;
  uid: string;
  generation: number;
  observedGeneration: number | null;
  /** The Ready condition's reason, and the one the spec calls for (Scheduled, Paused, Disabled, Completed). */
  readyReason: string | null;
  expectedReason: string;
  totalRunCount: number;
  missedRunCount: number;
  unknownRunCount: number;
  pausedRunCount: number;
  lastRunAt: number | null;
}

/** A run-now asked for (the `celerybeat.io/run-now` annotation set to `token`), and the task id it must run as. */
export interface RunNow {
  task: string;
  uid: string;
  token: string;
  taskId: string;
  /** Before the request went out. */
  at: number;
}

export interface History {
  seed: number;
  incarnations: Incarnation[];
  /** Run-now requests, oldest first (absent: none). */
  runNows?: RunNow[];
  samples: RunSample[];
  executions: Execution[];
  faults: Fault[];
  /**
   * Status read once the last edit and the last fault were `statusBoundMs` in the past, after the operators
   * were stopped (SIGTERM flushes status): it must equal the last run state Redis holds.
   */
  finalStatus: StatusReading[];
  statusBoundMs: number;
  /** How long after an edit a slot may still run the old definition (the watch's and the beat's reaction). */
  editGraceMs: number;
}
