// A list+watch cache of PeriodicTask objects that keeps going through what real clusters do (the client
// library's ListWatch stops for good on any error but 410, lists without pages and has no watchdog), so this
// runs the loop itself on the library's list and Watch calls (src/kube/kube-client.ts):
// list (paged) → watch from the list's resourceVersion → on a normal server-side end, watch again from the
// last resourceVersion; on 410 Gone, relist; on any other failure, back off with jitter and resume;
// when nothing at all arrives for `stallTimeoutMs`, abort the attempt and start over.
import { leanCopy } from '../api/lean-object.ts';
import { sameJson } from '../api/same-json.ts';
import { type PeriodicTask, taskKey, taskKeyOf } from '../api/types.ts';
import type { TaskSource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { internalErrorsTotal, watchRestartsTotal, watchSynced } from '../observe/metrics.ts';
import { sleep } from '../timing/sleep.ts';
import { type BackoffPolicy, backoffDelay } from '../workqueue/backoff.ts';
import { describeApiError, httpStatus } from './api-errors.ts';
import type { TaskCalls } from './kube-calls.ts';
import { bookmarkVersion, isPeriodicTask, type ListPage, readListPage } from './task-objects.ts';

export interface TaskInformerOptions {
  /** Watch one namespace; undefined watches all. */
  namespace?: string;
  logger: Logger;
  /** Server-side watch timeout; each watch asks for a random value in [this, 2 × this). Default 300. */
  watchTimeoutSeconds?: number;
  /** Restart when no event, bookmark or connect arrived for this long. Default 90 s (bookmarks come every ~60 s). */
  stallTimeoutMs?: number;
  /** synced() turns false when the watch has been failing for longer than this. Default 30 s. */
  unsyncedGraceMs?: number;
  backoff?: BackoffPolicy;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** Changes within this window give one onChange call. Default 100 ms. */
  coalesceMs?: number;
}

class GoneError extends Error {}
class StalledError extends Error {}
class StoppedError extends Error {}

export class PeriodicTaskInformer implements TaskSource {
  readonly #api: TaskCalls;
  readonly #options: Required<Omit<TaskInformerOptions, 'namespace'>> & { namespace: string | undefined };
  #cache = new Map<string, PeriodicTask>();
  #resourceVersion = '';
  #onChange: (keys?: ReadonlySet<string>) => void = () => {};
  /** The keys changed since the last signal, or undefined when a relist may have changed any of them. */
  #changed: Set<string> | undefined = new Set();
  #changePending = false;
  #everSynced = false;
  #brokenSince: number | undefined;
  #lastActivity = Date.now();
  #attempt: AbortController | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];
  /** Consecutive failed attempts; reset by a list or a watch that connects. */
  #failures = 0;

  constructor(api: TaskCalls, options: TaskInformerOptions) {
    this.#api = api;
    this.#options = {
      namespace: options.namespace,
      logger: options.logger,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      stallTimeoutMs: options.stallTimeoutMs ?? 90_000,
      unsyncedGraceMs: options.unsyncedGraceMs ?? 30_000,
      backoff: options.backoff ?? { initialMs: 500, maxMs: 30_000 },
      pageSize: options.pageSize ?? 500,
      coalesceMs: options.coalesceMs ?? 100,
    };
  }

  async start(onChange: (keys?: ReadonlySet<string>) => void): Promise<void> {
    if (this.#loop) throw new Error('PeriodicTask informer already started');
    this.#onChange = onChange;
    this.#lastActivity = Date.now();
    const tick = Math.max(100, Math.min(1000, this.#options.stallTimeoutMs / 4));
    this.#watchdog = setInterval(() => this.#checkStall(), tick);
    this.#loop = this.#run();
  }

  list(): PeriodicTask[] {
    return [...this.#cache.values()];
  }

  get(key: string): PeriodicTask | undefined {
    return this.#cache.get(key);
  }

  synced(): boolean {
    if (!this.#everSynced) return false;
    return this.#brokenSince === undefined || Date.now() - this.#brokenSince < this.#options.unsyncedGraceMs;
  }

  /** Resolves after the first complete list. */
  whenSynced(): Promise<void> {
    if (this.#everSynced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchdog);
    this.#attempt?.abort(new StoppedError('informer stopped'));
    await this.#loop;
    watchSynced.set(0);
  }

  async #run(): Promise<void> {
    const log = this.#options.logger;
    let needList = true;
    while (!this.#stopped) {
      this.#attempt = new AbortController();
      const signal = this.#attempt.signal;
      const started = Date.now();
      try {
        if (needList) {
          await abortable(this.#relist(signal), signal);
          needList = false;
        }
        await this.#watchOnce(signal);
        // A watch that the server ended normally right after it began is a sign of trouble too.
        this.#failures = Date.now() - started < 1000 ? this.#failures + 1 : 0;
        if (this.#failures > 0) await sleep(backoffDelay(this.#failures, this.#options.backoff), signal);
      } catch (error) {
        if (this.#stopped) break;
        if (error instanceof GoneError || httpStatus(error) === 410) {
          needList = true;
          watchRestartsTotal.inc({ reason: 'expired' });
          log.info(
            { resourceVersion: this.#resourceVersion },
            'PeriodicTask watch expired (410 Gone), relisting',
          );
          continue;
        }
        this.#failures += 1;
        this.#brokenSince ??= Date.now();
        const reason = error instanceof StalledError ? 'stalled' : 'error';
        watchRestartsTotal.inc({ reason });
        const wait = backoffDelay(this.#failures, this.#options.backoff);
        log.warn(
          { reason, attempt: this.#failures, retryInMs: wait, listing: needList },
          `PeriodicTask ${needList ? 'list' : 'watch'} failed: ${describeApiError(error)}${hint(error)}`,
        );
        this.#updateSyncedGauge();
        await sleep(wait, signal);
      }
    }
  }

  #checkStall(): void {
    if (Date.now() - this.#lastActivity > this.#options.stallTimeoutMs) {
      this.#lastActivity = Date.now();
      this.#attempt?.abort(new StalledError(`nothing received for ${this.#options.stallTimeoutMs} ms`));
    }
    this.#updateSyncedGauge();
  }

  #updateSyncedGauge(): void {
    watchSynced.set(this.synced() ? 1 : 0);
  }

  async #listPage(continueToken: string | undefined, signal: AbortSignal): Promise<ListPage> {
    const page = { limit: this.#options.pageSize, continueToken, signal };
    return readListPage(await this.#api.listTasks(this.#options.namespace, page));
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const fresh = new Map<string, PeriodicTask>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#listPage(continueToken, signal);
      if (signal.aborted) return;
      this.#lastActivity = Date.now();
      for (const item of page.items) fresh.set(taskKeyOf(item), slim(item));
      continueToken = page.continueToken;
      resourceVersion = page.resourceVersion;
    } while (continueToken);
    const first = !this.#everSynced;
    const changed = first || !sameObjects(this.#cache, fresh);
    this.#cache = fresh;
    this.#resourceVersion = resourceVersion;
    this.#brokenSince = undefined;
    this.#failures = 0;
    if (!this.#everSynced) {
      this.#everSynced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
      this.#options.logger.info({ count: fresh.size, resourceVersion }, 'PeriodicTask cache synced');
    }
    this.#updateSyncedGauge();
    // The first complete read is told at once, not coalesced: tasks gone from it must leave the beat now.
    if (first) this.#signalNow();
    else if (changed) this.#signalChange();
  }

  /** One watch request; resolves when the server ends it normally, rejects on anything else. */
  async #watchOnce(signal: AbortSignal): Promise<void> {
    const timeoutSeconds = Math.round(this.#options.watchTimeoutSeconds * (1 + Math.random()));
    let settle: (error: unknown) => void = () => {};
    const ended = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    let gone = false;
    let finished = false;
    const onEvent = (phase: string, object: unknown) => {
      this.#lastActivity = Date.now();
      if (phase === 'ERROR') {
        if (httpStatus(object) === 410) gone = true;
        else this.#options.logger.warn({ status: object }, 'PeriodicTask watch sent an ERROR event');
        return;
      }
      try {
        this.#apply(phase, object);
      } catch (error) {
        // Thrown inside the stream's line handler, it would end the process (and every replica with it, each
        // on the same event): the event is dropped, the next relist reads the object again.
        internalErrorsTotal.inc();
        this.#options.logger.error({ err: error, phase }, 'PeriodicTask watch event could not be handled');
      }
    };
    const onDone = (error: unknown) => {
      finished = true;
      if (gone) settle(new GoneError('resourceVersion too old'));
      else settle(error ?? undefined);
    };
    const request = this.#api.watchTasks(
      this.#options.namespace,
      { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      onEvent,
      onDone,
    );
    // The request is abandoned when the attempt aborts (watchdog, stop): close its stream whenever it opens.
    request.then(
      (controller) => {
        if (signal.aborted) controller.abort();
        else signal.addEventListener('abort', () => controller.abort(), { once: true });
        if (!finished) {
          this.#lastActivity = Date.now();
          this.#brokenSince = undefined;
          this.#failures = 0;
          this.#updateSyncedGauge();
        }
      },
      (error: unknown) => settle(error),
    );
    await abortable(ended, signal);
  }

  #apply(phase: string, object: unknown): void {
    if (phase === 'BOOKMARK') {
      const resourceVersion = bookmarkVersion(object);
      if (resourceVersion) this.#resourceVersion = resourceVersion;
      return;
    }
    if (!isPeriodicTask(object)) {
      this.#options.logger.warn({ phase }, 'PeriodicTask watch sent an unreadable object');
      return;
    }
    const { namespace = '', name, resourceVersion = '' } = object.metadata;
    if (resourceVersion !== '') this.#resourceVersion = resourceVersion;
    const key = taskKey(namespace, name);
    if (phase === 'ADDED' || phase === 'MODIFIED') {
      const previous = this.#cache.get(key);
      if (previous?.metadata.resourceVersion === resourceVersion) return;
      const current = slim(object);
      this.#cache.set(key, current);
      // A write of the status alone (the operator's own, up to --kube-api-qps a second) changes nothing a
      // reconcile acts on, and a pass over every task for each one made the leader of 100,000 tasks spend
      // all its time on them. The cache still holds it for the next pass and the status writer.
      if (!previous || !sameIntent(previous, current)) this.#signalChange(key);
    } else if (phase === 'DELETED') {
      if (this.#cache.delete(key)) this.#signalChange(key);
    }
  }

  /** Tells that any task may have changed, now (a change pending is included). */
  #signalNow(): void {
    this.#changed = new Set();
    try {
      this.#onChange(undefined);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'PeriodicTask change handler failed');
    }
  }

  /**
   * Coalesces a burst of changes (kubectl apply of many files, a relist) into one onChange call naming the
   * changed keys; without a key (a relist) the call says any may have changed.
   */
  #signalChange(key?: string): void {
    if (key === undefined) this.#changed = undefined;
    else this.#changed?.add(key);
    if (this.#changePending) return;
    this.#changePending = true;
    setTimeout(() => {
      this.#changePending = false;
      if (this.#stopped) return;
      const keys = this.#changed;
      this.#changed = new Set();
      try {
        this.#onChange(keys);
      } catch (error) {
        this.#options.logger.error({ err: error }, 'PeriodicTask change handler failed');
      }
    }, this.#options.coalesceMs);
  }
}

/** What an operator should check for the failures that are configuration, not weather. */
function hint(error: unknown): string {
  const status = httpStatus(error);
  if (status === 404) return ' (is the PeriodicTask CRD installed?)';
  if (status === 401 || status === 403) return " (check the operator's credentials and RBAC)";
  return '';
}

/** Rejects with the signal's reason as soon as it aborts, even if the operation itself hangs. */
function abortable<T>(operation: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    operation.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function sameObjects(a: Map<string, PeriodicTask>, b: Map<string, PeriodicTask>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, object] of b) {
    if (a.get(key)?.metadata.resourceVersion !== object.metadata.resourceVersion) return false;
  }
  return true;
}

/** The same identity, spec, labels and annotations (run now, backfill): what a reconcile acts on. */
function sameIntent(a: PeriodicTask, b: PeriodicTask): boolean {
  const m = a.metadata;
  const n = b.metadata;
  return (
    m.uid === n.uid &&
    m.generation === n.generation &&
    sameJson(a.spec, b.spec) &&
    sameJson(m.labels, n.labels) &&
    sameJson(m.annotations, n.annotations)
  );
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The object without what the operator never reads and what is most of its size: managedFields, and the
 * copy of the whole object kubectl apply keeps in an annotation (client-go's informers strip the first too).
 * At 100,000 tasks that is several hundred bytes to kilobytes per task held for nothing.
 */
function slim(object: PeriodicTask): PeriodicTask {
  const metadata = object.metadata as PeriodicTask['metadata'] & { managedFields?: unknown };
  delete metadata.managedFields;
  if (metadata.annotations && LAST_APPLIED in metadata.annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = metadata.annotations;
    metadata.annotations = rest;
  }
  return leanCopy(object);
}
