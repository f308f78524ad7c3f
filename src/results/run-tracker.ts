// Follows every run the beat sent in the result backend (`--result-backend`) and tells what it learns (the last
// success and failure, the last result and the recent runs) to the status projection. Polled, since Celery's result
// backend has no change feed that every setup enables. The history of each task is also kept in Redis, so a
// new leader (or a restarted standalone operator) carries it on. Each final result is also told to the one
// that counts failures in a row (the beat, for spec.pauseAfterFailures), at least once: those of the saved
// history again when a process takes it over, since the previous one may have stopped before its record.
import type { TaskDefinition } from '../api/types.ts';
import { taskKey } from '../api/types.ts';
import type { ResultBackend, RunObserver, RunOutcomeListener, RunResultsListener } from '../contracts.ts';
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
  /** Told what changed (the status projection). */
  results: RunResultsListener;
  /** Told of each final result (the beat, which counts failures in a row). */
  finished?: RunOutcomeListener;
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
  readonly #options: RunTrackerOptions;
  readonly #clock: () => number;
  readonly #tasks = new Map<string, Followed>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #failing = false;

  constructor(options: RunTrackerOptions) {
    this.#options = options;
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
    const pollMs = this.#options.pollMs ?? 1000;
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
      results = await this.#options.backend.fetch(ids);
      if (this.#failing) this.#options.logger.info('result backend readable again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing)
        this.#options.logger.warn({ err: error }, 'reading the result backend failed; retrying');
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
        this.#finished(key, applied);
      }
      if (!changed) continue;
      this.#options.results.results(task.namespace, task.name, task.history.status());
      await this.#options.history?.save(key, task.history.runs).catch((error: unknown) => {
        this.#options.logger.debug({ err: error, task: key }, 'saving the run history failed');
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
    if (run.state === 'SUCCESS') this.#options.logger.info(line, 'run finished');
    else this.#options.logger.warn(line, run.state === 'RETRY' ? 'run retrying' : 'run did not succeed');
  }

  #finished(key: string, run: TrackedRun): void {
    if (!FINAL_STATES.has(run.state)) return;
    this.#options.finished?.finished(key, {
      taskId: run.taskId,
      slot: run.slot,
      state: run.state,
      error: run.error,
    });
  }

  async #load(key: string, task: Followed): Promise<void> {
    const saved = await this.#options.history?.load(key).catch(() => null);
    // Oldest first, as they happened: the count in a row is made in slot order.
    for (const run of [...(saved ?? [])].reverse()) this.#finished(key, run);
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
