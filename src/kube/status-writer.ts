// Status write-back to PeriodicTask objects: merge patches on the status subresource (so spec is never
// written and Argo CD sees no drift), merged per resource so that only the latest state goes out, and
// paced by a token bucket so a thousand tasks firing at once cannot flood the API server.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, type PeriodicTaskStatus, PLURAL, taskKey, VERSION } from '../api/types.ts';
import type { CurrentStatusLookup, StatusSink, StatusUpdate } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { observeStatusLag, statusWritesTotal } from '../observe/metrics.ts';
import { RetryQueue } from '../workqueue/retry-queue.ts';
import { describeApiError, httpStatus, isRetryable } from './api-errors.ts';
import { type BackoffPolicy, sleep } from './backoff.ts';
import { mergeUpdates, statusPatch } from './status-patch.ts';
import { TokenBucket } from './token-bucket.ts';

export const FIELD_MANAGER = 'celerybeat-operator';

export interface StatusWriterOptions {
  logger: Logger;
  /** The informer cache's view of the object. */
  currentStatus: CurrentStatusLookup;
  /** Sustained status writes per second (--kube-api-qps, whose default is the one). */
  qps: number;
  /** Writes allowed at once above the sustained rate (--kube-api-burst). */
  burst: number;
  /** Wait before retrying a failed write: initialMs, doubling per failure of that resource, up to maxMs. Default 1 s to 60 s. */
  retryBackoff?: BackoffPolicy;
  /** Patches under way at once (each for a different resource). Default 4. */
  maxInFlight?: number;
  /** A patch without an answer after this long is retried (a frozen API server would hold it for minutes). Default 30 s. */
  requestTimeoutMs?: number;
}

interface Pending {
  namespace: string;
  name: string;
  update: StatusUpdate;
  firstReportedAt: number;
  /** Pending when flush() was called: written without waiting for its retry backoff. */
  flushing: boolean;
  /** One write attempt of this entry has finished (written, dropped, or re-queued as a new entry). */
  attempted: boolean;
}

interface Written {
  uid: string | undefined;
  status: PeriodicTaskStatus | undefined;
}

export class StatusWriter implements StatusSink {
  readonly #api: CustomObjectsApi;
  readonly #options: StatusWriterOptions;
  readonly #bucket: TokenBucket;
  /** Resources whose last write failed: each waits out its own backoff before the pump writes it again. */
  readonly #retries: RetryQueue;
  readonly #maxInFlight: number;
  readonly #pending = new Map<string, Pending>();
  /** Writes under way, at most one per resource so that an older state can never land after a newer one. */
  readonly #inFlight = new Map<string, { entry: Pending; done: Promise<void> }>();
  /** What our own last patch returned: fresher than the cache until the watch catches up. */
  readonly #written = new Map<string, Written>();
  #pump: Promise<void> | undefined;
  #wake = new AbortController();
  #flushWaiters: { entries: Pending[]; resolve: () => void }[] = [];

  constructor(kc: KubeConfig, options: StatusWriterOptions) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#options = options;
    this.#bucket = new TokenBucket(options.qps, options.burst);
    this.#retries = new RetryQueue({
      baseMs: options.retryBackoff?.initialMs ?? 1000,
      maxMs: options.retryBackoff?.maxMs ?? 60_000,
      onDue: () => this.#kick(),
    });
    this.#maxInFlight = options.maxInFlight ?? 4;
    observeStatusLag(() => this.lagSeconds());
  }

  report(namespace: string, name: string, update: StatusUpdate): void {
    const key = taskKey(namespace, name);
    const existing = this.#pending.get(key);
    if (existing) existing.update = mergeUpdates(existing.update, update);
    else this.#pending.set(key, newEntry(namespace, name, update, Date.now()));
    this.#kick();
  }

  /** Resolves once every update pending or being written now has been attempted (retry backoff is skipped, the rate limit is not). */
  async flush(): Promise<void> {
    const entries = [...this.#pending.values(), ...[...this.#inFlight.values()].map((write) => write.entry)];
    if (entries.length === 0) return;
    for (const entry of entries) entry.flushing = true;
    const done = new Promise<void>((resolve) => this.#flushWaiters.push({ entries, resolve }));
    this.#kick();
    await done;
  }

  /** Age in seconds of the oldest report not yet written. */
  lagSeconds(now: number = Date.now()): number {
    let oldest = now;
    for (const entry of this.#pending.values()) oldest = Math.min(oldest, entry.firstReportedAt);
    for (const { entry } of this.#inFlight.values()) oldest = Math.min(oldest, entry.firstReportedAt);
    return (now - oldest) / 1000;
  }

  /** Resources with an update not yet written (pending or being written). */
  pendingCount(): number {
    let count = this.#pending.size;
    for (const key of this.#inFlight.keys()) if (!this.#pending.has(key)) count += 1;
    return count;
  }

  #kick(): void {
    if (this.#pump) {
      this.#wake.abort();
      return;
    }
    this.#pump = this.#run().finally(() => {
      this.#pump = undefined;
      if (this.#pending.size > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    while (this.#pending.size > 0 || this.#inFlight.size > 0) {
      const next = this.#inFlight.size < this.#maxInFlight ? this.#nextReady() : undefined;
      if (!next) {
        // Nothing to start now: wait for a write to finish, or a wake-up (a report, a flush, a retry come due).
        this.#wake = new AbortController();
        const writes = [...this.#inFlight.values()].map((write) => write.done);
        await Promise.race([...writes, aborted(this.#wake.signal)]);
        continue;
      }
      for (let wait = this.#bucket.take(); wait > 0; wait = this.#bucket.take()) await sleep(wait);
      const [key, entry] = next;
      // The entry may have been merged into while waiting for a token; it is written in its latest state.
      this.#pending.delete(key);
      const done = this.#write(key, entry).finally(() => {
        this.#inFlight.delete(key);
        entry.attempted = true;
        this.#settleFlush();
      });
      this.#inFlight.set(key, { entry, done });
    }
  }

  /** The oldest entry that may be written now: not under way, and not waiting out a retry backoff unless flushed. */
  #nextReady(): [string, Pending] | undefined {
    for (const item of this.#pending) {
      const [key, entry] = item;
      if (this.#inFlight.has(key)) continue;
      if (entry.flushing || !this.#retries.isWaiting(key)) return item;
    }
    return undefined;
  }

  #settleFlush(): void {
    this.#flushWaiters = this.#flushWaiters.filter((waiter) => {
      if (!waiter.entries.every((entry) => entry.attempted)) return true;
      waiter.resolve();
      return false;
    });
  }

  #current(key: string, namespace: string, name: string): PeriodicTaskStatus | undefined {
    const cached = this.#options.currentStatus(namespace, name);
    const written = this.#written.get(key);
    // A resource deleted and re-created under the same name has a new uid: our record is then stale.
    if (written && (!cached || cached.metadata.uid === written.uid)) return written.status;
    return cached?.status;
  }

  async #write(key: string, entry: Pending): Promise<void> {
    const { namespace, name } = entry;
    const body = statusPatch(entry.update, this.#current(key, namespace, name), new Date());
    if (!body) {
      statusWritesTotal.inc({ result: 'unchanged' });
      this.#retries.forget(key);
      return;
    }
    try {
      const request = this.#api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: { status: body },
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const response: unknown = await withTimeout(request, this.#options.requestTimeoutMs ?? 30_000);
      statusWritesTotal.inc({ result: 'written' });
      this.#retries.forget(key);
      this.#written.set(key, readWritten(response));
    } catch (error) {
      const status = httpStatus(error);
      const log = this.#options.logger.child({ namespace, name });
      if (status === 404) {
        statusWritesTotal.inc({ result: 'gone' });
        this.#retries.forget(key);
        this.#written.delete(key);
        log.debug('PeriodicTask is gone, status update dropped');
      } else if (isRetryable(error)) {
        statusWritesTotal.inc({ result: 'retry' });
        const newer = this.#pending.get(key);
        if (newer) {
          // A report arrived while this write was under way: keep its entry (a flush may be waiting on it).
          newer.update = mergeUpdates(entry.update, newer.update);
          newer.firstReportedAt = entry.firstReportedAt;
        } else {
          this.#pending.set(key, newEntry(namespace, name, entry.update, entry.firstReportedAt));
        }
        const retryInMs = this.#retries.retryLater(key);
        log.warn({ retryInMs }, `status write failed, will retry: ${describeApiError(error)}`);
      } else {
        statusWritesTotal.inc({ result: 'rejected' });
        this.#retries.forget(key);
        log.error({ patch: body }, `status write rejected: ${describeApiError(error)}`);
      }
    }
  }
}

/** A merge patch is idempotent, so an abandoned request that lands late does no harm. */
function withTimeout<T>(request: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the API server within ${ms} ms`)), ms);
  });
  return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
}

function newEntry(namespace: string, name: string, update: StatusUpdate, reportedAt: number): Pending {
  return { namespace, name, update, firstReportedAt: reportedAt, flushing: false, attempted: false };
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function readWritten(response: unknown): Written {
  const object =
    typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
  const metadata = typeof object.metadata === 'object' && object.metadata !== null ? object.metadata : {};
  const uid = (metadata as { uid?: unknown }).uid;
  return {
    uid: typeof uid === 'string' ? uid : undefined,
    status:
      typeof object.status === 'object' && object.status !== null
        ? (object.status as PeriodicTaskStatus)
        : undefined,
  };
}
