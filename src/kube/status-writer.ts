// Status write-back to PeriodicTask objects: merge patches on the status subresource (so spec is never
// written and Argo CD sees no drift), merged per resource so that only the latest state goes out, and
// paced by a token bucket so a thousand tasks firing at once cannot flood the API server.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, type PeriodicTaskStatus, PLURAL, taskKey, VERSION } from '../api/types.ts';
import type { Logger } from '../observe/logger.ts';
import { observeStatusLag, statusWritesTotal } from '../observe/metrics.ts';
import { describeApiError, httpStatus, isRetryable } from './api-errors.ts';
import { type BackoffPolicy, backoffDelay, sleep } from './backoff.ts';
import { mergeUpdates, statusPatch } from './status-patch.ts';
import type { CurrentStatusLookup, StatusSink, StatusUpdate } from './status-sink.ts';
import { TokenBucket } from './token-bucket.ts';

export const FIELD_MANAGER = 'celerybeat-operator';

export interface StatusWriterOptions {
  logger: Logger;
  /** The informer cache's view of the object. */
  currentStatus: CurrentStatusLookup;
  /** Sustained status writes per second (--kube-api-qps). Default 20. */
  qps?: number;
  /** Writes allowed at once above the sustained rate (--kube-api-burst). Default 30. */
  burst?: number;
  retryBackoff?: BackoffPolicy;
  /** A patch without an answer after this long is retried (a frozen API server would hold it for minutes). Default 30 s. */
  requestTimeoutMs?: number;
}

interface Pending {
  namespace: string;
  name: string;
  update: StatusUpdate;
  firstReportedAt: number;
  attempts: number;
  notBefore: number;
}

interface Written {
  uid: string | undefined;
  status: PeriodicTaskStatus | undefined;
}

export class StatusWriter implements StatusSink {
  readonly #api: CustomObjectsApi;
  readonly #options: StatusWriterOptions;
  readonly #bucket: TokenBucket;
  readonly #backoff: BackoffPolicy;
  readonly #pending = new Map<string, Pending>();
  /** What our own last patch returned: fresher than the cache until the watch catches up. */
  readonly #written = new Map<string, Written>();
  #pump: Promise<void> | undefined;
  /** The write under way; it has already left #pending, and flush() must wait for it too. */
  #inFlight: Promise<void> | undefined;
  #wake = new AbortController();
  #flushKeys = new Set<string>();
  #flushWaiters: (() => void)[] = [];

  constructor(kc: KubeConfig, options: StatusWriterOptions) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#options = options;
    this.#bucket = new TokenBucket(options.qps ?? 20, options.burst ?? 30);
    this.#backoff = options.retryBackoff ?? { initialMs: 1000, maxMs: 60_000 };
    observeStatusLag(() => this.lagSeconds());
  }

  report(namespace: string, name: string, update: StatusUpdate): void {
    const key = taskKey(namespace, name);
    const existing = this.#pending.get(key);
    if (existing) existing.update = mergeUpdates(existing.update, update);
    else
      this.#pending.set(key, {
        namespace,
        name,
        update,
        firstReportedAt: Date.now(),
        attempts: 0,
        notBefore: 0,
      });
    this.#kick();
  }

  /** Attempts every update pending now once, ignoring retry backoff (but not the rate limit). */
  async flush(): Promise<void> {
    const writing = this.#inFlight;
    for (const key of this.#pending.keys()) this.#flushKeys.add(key);
    if (this.#flushKeys.size > 0) {
      const done = new Promise<void>((resolve) => this.#flushWaiters.push(resolve));
      this.#kick();
      await done;
    }
    await writing;
  }

  /** Age in seconds of the oldest report not yet written. */
  lagSeconds(now: number = Date.now()): number {
    let oldest = now;
    for (const entry of this.#pending.values()) oldest = Math.min(oldest, entry.firstReportedAt);
    return (now - oldest) / 1000;
  }

  pendingCount(): number {
    return this.#pending.size;
  }

  #kick(): void {
    if (this.#pump) {
      this.#wake.abort();
      return;
    }
    this.#pump = this.#run().finally(() => {
      this.#pump = undefined;
      this.#settleFlush();
      if (this.#pending.size > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    while (this.#pending.size > 0) {
      const now = Date.now();
      const next = this.#nextDue(now);
      if (typeof next === 'number') {
        this.#wake = new AbortController();
        await sleep(next - now, this.#wake.signal);
        continue;
      }
      for (let wait = this.#bucket.take(); wait > 0; wait = this.#bucket.take()) await sleep(wait);
      const [key, entry] = next;
      // The entry may have been merged into while waiting for a token; take its latest state.
      this.#pending.delete(key);
      this.#inFlight = this.#write(key, entry);
      await this.#inFlight;
      this.#inFlight = undefined;
      this.#flushKeys.delete(key);
      this.#settleFlush();
    }
  }

  /** The oldest entry that may be written now, or the time the earliest backed-off entry becomes due. */
  #nextDue(now: number): [string, Pending] | number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const item of this.#pending) {
      const [key, entry] = item;
      if (entry.notBefore <= now || this.#flushKeys.has(key)) return item;
      earliest = Math.min(earliest, entry.notBefore);
    }
    return earliest;
  }

  #settleFlush(): void {
    for (const key of this.#flushKeys) if (!this.#pending.has(key)) this.#flushKeys.delete(key);
    if (this.#flushKeys.size === 0) for (const resolve of this.#flushWaiters.splice(0)) resolve();
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
      this.#written.set(key, readWritten(response));
    } catch (error) {
      const status = httpStatus(error);
      const log = this.#options.logger.child({ namespace, name });
      if (status === 404) {
        statusWritesTotal.inc({ result: 'gone' });
        this.#written.delete(key);
        log.debug('PeriodicTask is gone, status update dropped');
      } else if (isRetryable(error)) {
        statusWritesTotal.inc({ result: 'retry' });
        const attempts = entry.attempts + 1;
        const newer = this.#pending.get(key);
        this.#pending.set(key, {
          ...entry,
          update: newer ? mergeUpdates(entry.update, newer.update) : entry.update,
          attempts,
          notBefore: Date.now() + backoffDelay(attempts, this.#backoff),
        });
        log.warn({ attempt: attempts }, `status write failed, will retry: ${describeApiError(error)}`);
      } else {
        statusWritesTotal.inc({ result: 'rejected' });
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
