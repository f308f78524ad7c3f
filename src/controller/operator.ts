// Wires the layers together: the source's change signal drives level-based reconciles, leadership gates
// all leader work (reconcile, dispatch, status), and shutdown stops them in order.

import type { Beat } from '../beat/beat.ts';
import type { Leadership, StatusSink, TaskSource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { reconcileTotal, setLeaderGauges } from '../observe/metrics.ts';
import { sleep } from '../timing/sleep.ts';
import { withTimeout } from '../timing/with-timeout.ts';
import { WorkQueue } from '../workqueue/work-queue.ts';
import type { Reconciler, ReconcileSummary } from './reconciler.ts';

export interface OperatorOptions {
  source: TaskSource;
  reconciler: Reconciler;
  beat: Beat;
  leadership: Leadership;
  status: StatusSink;
  logger: Logger;
  /** Period of the full pass that re-creates vanished keys and prunes orphans (default 5 minutes). */
  resyncMs?: number;
  /** Called when leadership is lost; the process should exit so a fresh replica starts clean. */
  onLeadershipLost: () => void;
  /** The jitter's source of the retry backoff (tests fix it; 1 gives the unjittered delay). */
  random?: () => number;
}

/** The retry of a whole pass that failed, beside the tasks' own keys in the retry queue. */
const FULL_PASS: unique symbol = Symbol('full pass');

export class Operator {
  readonly #options: OperatorOptions;
  #leading = false;
  /** A pass over the whole desired set is due (a source said anything may have changed, a resync). */
  #dirty = false;
  #verifyNext = false;
  /** Tasks a source said changed, reconciled alone unless a full pass comes first. */
  readonly #dirtyKeys = new Set<string>();
  #pass: Promise<void> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  /** Tasks whose reconcile failed, each retried alone with its own backoff, and a failed pass (FULL_PASS). */
  readonly #retries: WorkQueue<string | typeof FULL_PASS>;
  /** Passes run only once the desired set has been read completely (before, the beat has the store's tasks). */
  #reconciling = false;

  constructor(options: OperatorOptions) {
    this.#options = options;
    this.#retries = new WorkQueue({
      backoff: { initialMs: 500, maxMs: 30_000 },
      onReady: () => this.#startPasses(),
      ...(options.random ? { random: options.random } : {}),
    });
    setLeaderGauges(false);
  }

  async start(): Promise<void> {
    await this.#options.source.start((keys) => {
      // What the source says is gone leaves the beat now, before any pass reaches it.
      if (this.#leading && this.#listed()) this.#withdrawGone(keys);
      if (keys) this.#requestKeys(keys);
      else this.#requestPass(false);
    });
    this.#options.leadership.run({
      onStartedLeading: () => void this.#lead(),
      onStoppedLeading: () => this.#lose('leadership lost'),
      onError: (error) => this.#options.logger.warn({ err: error }, 'leader election error'),
      onFatal: (reason) => {
        this.#options.logger.fatal({ reason }, 'cannot take part in leader election; exiting');
        if (this.#leading) this.#lose(reason);
        else this.#options.onLeadershipLost();
      },
    });
  }

  /** Leader work on or off; the leader gauges follow it in every mode, a Lease hold-over included. */
  #setLeading(leading: boolean): void {
    this.#leading = leading;
    setLeaderGauges(leading);
  }

  /**
   * A task's key is gone from Redis (the beat found it so): the reconciler, the one writer of definitions,
   * writes it again, with the run state the beat holds, as a retry of that task alone.
   */
  rewriteKey(taskKey: string): void {
    if (this.#leading) this.#retries.add(taskKey);
  }

  /** Ready once the desired set has been read completely. */
  ready(): boolean {
    return this.#options.source.synced();
  }

  get leading(): boolean {
    return this.#leading;
  }

  /**
   * Stops leader work in order: the beat (and the batch in flight), the reconcile pass, the status flush, the
   * leadership release, the source. Each step gets what is left of `budgetMs`: with Redis, the broker and the
   * API server all unreachable the process must still exit before the kubelet's grace period ends, saying
   * what it could not finish.
   */
  async stop(budgetMs = 8000): Promise<void> {
    this.#setLeading(false);
    this.#reconciling = false;
    this.#retries.clear();
    clearInterval(this.#resyncTimer);
    const deadline = Date.now() + budgetMs;
    const step = async (what: string, work: () => Promise<unknown>, left?: () => string): Promise<void> => {
      const late = new Error(`shutdown: ${what} did not finish in time`);
      try {
        await withTimeout(work(), deadline - Date.now(), () => late);
      } catch (error) {
        if (error === late) this.#options.logger.error({ step: what, left: left?.() }, late.message);
        else this.#options.logger.warn({ err: error }, `shutdown: ${what} failed`);
      }
    };
    await step(
      'stopping the beat',
      () => this.#options.beat.stop(),
      () => 'a dispatch batch was still in flight',
    );
    await step('the reconcile pass', async () => this.#pass);
    await step(
      'flushing status',
      () => this.#options.status.flush(),
      () => {
        const pending = this.#options.status.pendingCount?.() ?? 0;
        return `${pending} status update(s) not written; the run state is in Redis and is written at the next start`;
      },
    );
    await step(
      'releasing leadership',
      () => this.#options.leadership.release(),
      () => 'a standby takes over when it expires',
    );
    await step('stopping the source', () => this.#options.source.stop());
  }

  async #lead(): Promise<void> {
    this.#options.logger.info('became leader');
    this.#setLeading(true);
    await this.#dispatchFromStore();
    // Never act on a partial desired set: pruning would delete the keys of tasks not read yet.
    while (this.#leading && !this.#options.source.synced()) await sleep(100);
    if (!this.#leading) return;
    this.#withdrawGone();
    this.#reconciling = true;
    try {
      const pruned = await this.#prune();
      if (pruned > 0) this.#options.logger.info({ pruned }, 'pruned orphaned keys');
    } catch (error) {
      this.#options.logger.warn(
        { err: error },
        'pruning orphaned keys failed; will retry at the next resync',
      );
    }
    this.#requestPass(true);
    await this.#pass;
    // Leadership may have been lost while the first pass ran: a beat started now would dispatch unfenced.
    if (!this.#leading) return;
    this.#options.beat.start();
    this.#resyncTimer = setInterval(() => this.#requestPass(true), this.#options.resyncMs ?? 300_000);
  }

  /**
   * Dispatches from the store at once: the tasks this operator's keys hold go to the beat, which starts
   * under this leader's fence token, while the source is still reading the resources (at 100,000 tasks a
   * list takes long) and the first pass has not written them. What the source then says is gone is taken
   * out of the beat before any pass runs; the first pass replaces the rest.
   */
  async #dispatchFromStore(): Promise<void> {
    let loaded: Awaited<ReturnType<Reconciler['loadFromStore']>>;
    // The beat starts with the first page: the first due runs need not wait for the last key.
    let started = false;
    const onPage = (keys: ReadonlySet<string>): boolean => {
      // Leadership may have been lost meanwhile: a beat started now would dispatch for another leader's tasks.
      if (!this.#leading) return false;
      if (this.#listed()) this.#withdrawGone(keys);
      if (!started) this.#options.beat.start();
      started = true;
      return true;
    };
    try {
      loaded = await this.#options.reconciler.loadFromStore(onPage);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'reading the tasks in Redis failed; waiting for the source');
      return;
    }
    if (!loaded || !this.#leading) return;
    this.#options.logger.info(
      { ...loaded, sourceSynced: this.#options.source.synced() },
      'dispatching the tasks in Redis while the source is read',
    );
  }

  #listed(): boolean {
    const source = this.#options.source;
    return source.listed?.() ?? source.synced();
  }

  /** Takes the tasks the source (read completely) no longer has out of the beat: all, or those signalled. */
  #withdrawGone(keys?: ReadonlySet<string>): void {
    const current = (key: string) => this.#options.source.get(key);
    const withdrawn = this.#options.reconciler.withdrawGone(current, keys);
    if (withdrawn > 0) this.#options.logger.info({ withdrawn }, 'tasks gone from the source left the beat');
  }

  /** Deletes the keys of resources that are gone, unless the source could not read everything. */
  async #prune(): Promise<number> {
    const complete = this.#options.source.complete?.() !== false;
    if (!complete) this.#options.logger.warn('some manifests could not be read: not pruning orphaned keys');
    return this.#options.reconciler.prune(this.#options.source.list(), complete);
  }

  #lose(reason: string): void {
    if (!this.#leading) return;
    this.#setLeading(false);
    this.#reconciling = false;
    this.#retries.clear();
    this.#options.logger.error({ reason }, 'stopping all leader work');
    void this.#options.beat.stop();
    this.#options.onLeadershipLost();
  }

  /** Coalesces change signals: at most one pass runs, and one more follows if anything changed meanwhile. */
  #requestPass(verify: boolean): void {
    this.#dirty = true;
    this.#verifyNext ||= verify;
    this.#startPasses();
  }

  #requestKeys(keys: ReadonlySet<string>): void {
    for (const key of keys) this.#dirtyKeys.add(key);
    this.#startPasses();
  }

  #startPasses(): void {
    if (!this.#leading || !this.#reconciling || this.#pass) return;
    this.#pass = this.#runPasses().finally(() => {
      this.#pass = undefined;
    });
  }

  async #runPasses(): Promise<void> {
    while ((this.#dirty || this.#dirtyKeys.size > 0 || this.#retries.length > 0) && this.#leading) {
      if (this.#dirty) await this.#runFullPass();
      else if (this.#dirtyKeys.size > 0) {
        const keys = [...this.#dirtyKeys];
        this.#dirtyKeys.clear();
        await this.#runKeys(keys, false);
      } else await this.#runRetries();
    }
  }

  /** The retries that came due: a failed pass runs again in full, failed tasks alone (their keys re-written). */
  async #runRetries(): Promise<void> {
    const keys: string[] = [];
    for (let key = this.#retries.get(); key !== undefined; key = this.#retries.get()) {
      if (key === FULL_PASS) {
        this.#retries.done(FULL_PASS);
        this.#requestPass(true);
      } else keys.push(key);
    }
    try {
      if (keys.length > 0) await this.#runKeys(keys, true);
    } finally {
      for (const key of keys) this.#retries.done(key);
    }
  }

  async #runFullPass(): Promise<void> {
    this.#dirty = false;
    // The full pass reads every task: the keys signalled before it are covered.
    this.#dirtyKeys.clear();
    const verify = this.#verifyNext;
    this.#verifyNext = false;
    try {
      const complete = this.#options.source.complete?.() !== false;
      const current = (key: string) => this.#options.source.get(key);
      const summary = await this.#options.reconciler.reconcile(
        this.#options.source.list(),
        verify,
        complete,
        current,
      );
      if (verify) await this.#prune();
      this.#afterReconcile(summary);
      this.#retries.forget(FULL_PASS);
    } catch (error) {
      reconcileTotal.inc({ result: 'error' });
      const retryInMs = this.#retries.addRateLimited(FULL_PASS);
      this.#options.logger.error({ err: error, retryInMs }, 'reconcile pass failed');
    }
  }

  /**
   * A pass over only these tasks, from their current objects (level-based per key): the changed ones, or
   * (`verify`, their keys re-written) those whose retry is due.
   */
  async #runKeys(keys: string[], verify: boolean): Promise<void> {
    const complete = this.#options.source.complete?.() !== false;
    const current = (key: string) => this.#options.source.get(key);
    try {
      this.#afterReconcile(await this.#options.reconciler.reconcileKeys(keys, current, complete, verify));
    } catch (error) {
      this.#options.logger.error({ err: error, tasks: keys.length }, 'reconciling changed tasks failed');
      for (const key of keys) this.#retries.addRateLimited(key);
    }
  }

  #afterReconcile(summary: ReconcileSummary): void {
    reconcileTotal.inc({ result: summary.failed === 0 ? 'success' : 'error' });
    for (const key of summary.succeededKeys) this.#retries.forget(key);
    for (const key of summary.failedKeys) this.#retries.addRateLimited(key);
  }
}
