// Follows every run the beat sent in the result backend (`--result-backend`) and reports what it learns as
// status: the last success and failure, the last result and the recent runs. Polled, since Celery's result
// backend has no change feed that every setup enables. The history of each task is also kept in Redis, so a
// new leader (or a restarted standalone operator) carries it on.
import type { TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type { ResultBackend, RunObserver, StatusSink } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { runDurationSeconds, runResultsTotal } from '../observe/metrics.ts';
import { FINAL_STATES } from './result-meta.ts';
import { durationSeconds, RunHistory, type TrackedRun } from './run-history.ts';

/** Where a task's history is kept between processes. */
export interface HistoryStore {
  load(taskKey: string): Promise<TrackedRun[] | null>;
  save(taskKey: string, runs: readonly TrackedRun[]): Promise<void>;
}

export interface RunTrackerOptions {
  backend: ResultBackend;
  status: StatusSink;
  logger: Logger;
  history?: HistoryStore;
  pollMs?: number;
  clock?: () => number;
}

interface Followed {
  namespace: string;
  name: string;
  history: RunHistory;
}

export class RunTracker implements RunObserver {
  readonly #o: RunTrackerOptions;
  readonly #clock: () => number;
  readonly #tasks = new Map<string, Followed>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #failing = false;

  constructor(options: RunTrackerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  sent(def: TaskDefinition, taskId: string, slot: number, sentAt: number): void {
    const key = taskKey(def.namespace, def.name);
    let task = this.#tasks.get(key);
    if (!task) {
      task = { namespace: def.namespace, name: def.name, history: new RunHistory() };
      this.#tasks.set(key, task);
      // The saved history joins the runs sent meanwhile when it arrives; a failed read is an empty one.
      void this.#load(key, task);
    }
    task.history.add(slot, taskId, sentAt);
  }

  start(): void {
    const pollMs = this.#o.pollMs ?? 1000;
    const tick = (): void => {
      this.#polling = this.poll().finally(() => {
        this.#polling = undefined;
        this.#timer = setTimeout(tick, pollMs);
      });
    };
    this.#timer = setTimeout(tick, pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  /** One round: asks for every followed run that has not finished and reports what changed. */
  async poll(): Promise<void> {
    const now = this.#clock();
    const ids: string[] = [];
    for (const task of this.#tasks.values())
      for (const run of task.history.following(now)) ids.push(run.taskId);
    if (ids.length === 0) return;
    let results: Awaited<ReturnType<ResultBackend['fetch']>>;
    try {
      results = await this.#o.backend.fetch(ids);
      if (this.#failing) this.#o.logger.info('result backend readable again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.#o.logger.warn({ err: error }, 'reading the result backend failed; retrying');
      this.#failing = true;
      return;
    }
    for (const [key, task] of this.#tasks) {
      let changed = false;
      for (const run of task.history.following(now)) {
        const result = results.get(run.taskId);
        if (!result) continue;
        const applied = task.history.apply(result);
        if (!applied) continue;
        changed = true;
        this.#observe(task, applied);
      }
      if (!changed) continue;
      this.#o.status.report(task.namespace, task.name, task.history.status());
      await this.#o.history?.save(key, task.history.runs).catch((error: unknown) => {
        this.#o.logger.debug({ err: error, task: key }, 'saving the run history failed');
      });
    }
  }

  #observe(task: Followed, run: TrackedRun): void {
    runResultsTotal.inc({ state: run.state });
    if (!FINAL_STATES.has(run.state) && run.state !== 'RETRY') return;
    const duration = durationSeconds(run);
    if (duration !== undefined) runDurationSeconds.observe(duration);
    const line = {
      namespace: task.namespace,
      name: task.name,
      taskId: run.taskId,
      slot: new Date(run.slot).toISOString(),
      state: run.state,
      ...(run.error === null ? {} : { error: run.error }),
      ...(duration === undefined ? {} : { durationSeconds: duration }),
    };
    if (run.state === 'SUCCESS') this.#o.logger.info(line, 'run finished');
    else this.#o.logger.warn(line, run.state === 'RETRY' ? 'run retrying' : 'run did not succeed');
  }

  async #load(key: string, task: Followed): Promise<void> {
    const saved = await this.#o.history?.load(key).catch(() => null);
    for (const run of saved ?? []) {
      if (task.history.runs.some((r) => r.taskId === run.taskId)) continue;
      task.history.add(run.slot, run.taskId, run.sentAt);
      task.history.apply({
        taskId: run.taskId,
        state: run.state,
        finishedAt: run.finishedAt,
        error: run.error,
      });
    }
  }
}
