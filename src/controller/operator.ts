// Wires the layers together: the source's change signal drives level-based reconciles, leadership gates
// all leader work (reconcile, dispatch, status), and shutdown stops them in order.

import type { Beat, BeatListener } from '../beat/beat.ts';
import type { Leadership, RunObserver, StatusSink, TaskEvents, TaskSource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { reconcileTotal, setLeaderGauges } from '../observe/metrics.ts';
import { RetryQueue } from '../workqueue/retry-queue.ts';
import type { Reconciler, ReconcileSummary } from './reconciler.ts';
import { readyCondition, readyOf, runStatus } from './task-status.ts';

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
}

const MAX_RETRY_MS = 30_000;

export class Operator {
  readonly #o: OperatorOptions;
  #leading = false;
  /** A pass over the whole desired set is due (a source said anything may have changed, a resync). */
  #dirty = false;
  #verifyNext = false;
  /** Tasks a source said changed, reconciled alone unless a full pass comes first. */
  readonly #dirtyKeys = new Set<string>();
  #pass: Promise<void> | undefined;
  #retryMs = 500;
  #retryTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  /** Tasks whose reconcile failed, each retried alone with its own backoff. */
  readonly #retries = new RetryQueue({ onDue: (keys) => this.#requestRetry(keys) });
  readonly #retryDue = new Set<string>();

  constructor(options: OperatorOptions) {
    this.#o = options;
    setLeaderGauges(false);
  }

  /** The beat's listener: dispatch results become status updates and events. */
  static beatListener(
    status: StatusSink,
    events: TaskEvents,
    onFenced: () => void,
    runs?: RunObserver,
  ): BeatListener {
    return {
      recorded: (def, state, next, paused) =>
        status.report(def.namespace, def.name, {
          ...runStatus(state, next, paused),
          ready: readyOf(def, state),
        }),
      sent: (def, taskId, slot, sentAt) => runs?.sent(def, taskId, slot, sentAt),
      skipped: (def, state, next, reason) =>
        status.report(def.namespace, def.name, {
          ...runStatus(state, next),
          ready: readyCondition('True', 'RunSkipped', reason),
        }),
      rejected: (def, reason, problem = 'MessageRejected') => {
        events.warning(def, problem, reason);
        status.report(def.namespace, def.name, { ready: readyCondition('False', problem, reason) });
      },
      fenced: onFenced,
    };
  }

  async start(): Promise<void> {
    await this.#o.source.start((keys) => {
      if (keys) this.#requestKeys(keys);
      else this.#requestPass(false);
    });
    this.#o.leadership.run({
      onStartedLeading: () => void this.#lead(),
      onStoppedLeading: () => this.#lose('leadership lost'),
      onError: (error) => this.#o.logger.warn({ err: error }, 'leader election error'),
      onFatal: (reason) => {
        this.#o.logger.fatal({ reason }, 'cannot take part in leader election; exiting');
        if (this.#leading) this.#lose(reason);
        else this.#o.onLeadershipLost();
      },
    });
  }

  /** Leader work on or off; the leader gauges follow it in every mode, a Lease hold-over included. */
  #setLeading(leading: boolean): void {
    this.#leading = leading;
    setLeaderGauges(leading);
  }

  /** Ready once the desired set has been read completely. */
  ready(): boolean {
    return this.#o.source.synced();
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
    this.#retries.clear();
    clearTimeout(this.#retryTimer);
    clearInterval(this.#resyncTimer);
    const deadline = Date.now() + budgetMs;
    const step = async (what: string, work: () => Promise<unknown>, left?: () => string): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now()));
      });
      const finished = work().then(
        () => false,
        (error: unknown) => {
          this.#o.logger.warn({ err: error }, `shutdown: ${what} failed`);
          return false;
        },
      );
      const late = await Promise.race([finished, timedOut]);
      clearTimeout(timer);
      if (late)
        this.#o.logger.error({ step: what, left: left?.() }, `shutdown: ${what} did not finish in time`);
    };
    await step(
      'stopping the beat',
      () => this.#o.beat.stop(),
      () => 'a dispatch batch was still in flight',
    );
    await step('the reconcile pass', async () => this.#pass);
    await step(
      'flushing status',
      () => this.#o.status.flush(),
      () => {
        const pending = this.#o.status.pendingCount?.() ?? 0;
        return `${pending} status update(s) not written; the run state is in Redis and is written at the next start`;
      },
    );
    await step(
      'releasing leadership',
      () => this.#o.leadership.release(),
      () => 'a standby takes over when it expires',
    );
    await step('stopping the source', () => this.#o.source.stop());
  }

  async #lead(): Promise<void> {
    this.#o.logger.info('became leader');
    this.#setLeading(true);
    // Never act on a partial desired set: pruning would delete the keys of tasks not read yet.
    while (this.#leading && !this.#o.source.synced()) await new Promise((r) => setTimeout(r, 100));
    if (!this.#leading) return;
    try {
      const pruned = await this.#prune();
      if (pruned > 0) this.#o.logger.info({ pruned }, 'pruned orphaned keys');
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'pruning orphaned keys failed; will retry at the next resync');
    }
    this.#requestPass(true);
    await this.#pass;
    // Leadership may have been lost while the first pass ran: a beat started now would dispatch unfenced.
    if (!this.#leading) return;
    this.#o.beat.start();
    this.#resyncTimer = setInterval(() => this.#requestPass(true), this.#o.resyncMs ?? 300_000);
  }

  /** Deletes the keys of resources that are gone, unless the source could not read everything. */
  async #prune(): Promise<number> {
    const complete = this.#o.source.complete?.() !== false;
    if (!complete) this.#o.logger.warn('some manifests could not be read: not pruning orphaned keys');
    return this.#o.reconciler.prune(this.#o.source.list(), complete);
  }

  #lose(reason: string): void {
    if (!this.#leading) return;
    this.#setLeading(false);
    this.#retries.clear();
    this.#o.logger.error({ reason }, 'stopping all leader work');
    void this.#o.beat.stop();
    this.#o.onLeadershipLost();
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

  #requestRetry(keys: string[]): void {
    for (const key of keys) this.#retryDue.add(key);
    this.#startPasses();
  }

  #startPasses(): void {
    if (!this.#leading || this.#pass) return;
    this.#pass = this.#runPasses().finally(() => {
      this.#pass = undefined;
    });
  }

  async #runPasses(): Promise<void> {
    while ((this.#dirty || this.#dirtyKeys.size > 0 || this.#retryDue.size > 0) && this.#leading) {
      if (this.#dirty) await this.#runFullPass();
      else if (this.#dirtyKeys.size > 0) await this.#runKeys(this.#dirtyKeys, false);
      else await this.#runKeys(this.#retryDue, true);
    }
  }

  async #runFullPass(): Promise<void> {
    this.#dirty = false;
    // The full pass reads every task: the keys signalled before it are covered.
    this.#dirtyKeys.clear();
    const verify = this.#verifyNext;
    this.#verifyNext = false;
    try {
      const complete = this.#o.source.complete?.() !== false;
      const summary = await this.#o.reconciler.reconcile(this.#o.source.list(), verify, complete);
      if (verify) await this.#prune();
      this.#afterReconcile(summary);
      this.#retryMs = 500;
    } catch (error) {
      reconcileTotal.inc({ result: 'error' });
      this.#o.logger.error({ err: error }, 'reconcile pass failed');
      this.#scheduleRetry();
    }
  }

  /**
   * A pass over only these tasks, from their current objects (level-based per key): the changed ones, or
   * (`verify`, their keys re-written) those whose retry is due.
   */
  async #runKeys(pending: Set<string>, verify: boolean): Promise<void> {
    const keys = [...pending];
    pending.clear();
    const complete = this.#o.source.complete?.() !== false;
    const current = (key: string) => this.#o.source.get(key);
    try {
      this.#afterReconcile(await this.#o.reconciler.reconcileKeys(keys, current, complete, verify));
    } catch (error) {
      this.#o.logger.error({ err: error, tasks: keys.length }, 'reconciling changed tasks failed');
      for (const key of keys) this.#retries.retryLater(key);
    }
  }

  #afterReconcile(summary: ReconcileSummary): void {
    reconcileTotal.inc({ result: summary.failed === 0 ? 'success' : 'error' });
    for (const key of summary.succeededKeys) this.#retries.forget(key);
    for (const key of summary.failedKeys) this.#retries.retryLater(key);
  }

  #scheduleRetry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#requestPass(true), this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }
}
