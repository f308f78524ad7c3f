// Status write-back to PeriodicTask objects: merge patches on the status subresource (so spec is never
// written and Argo CD sees no drift), merged per resource so that only the latest state goes out, and
// paced by a token bucket so a thousand tasks firing at once cannot flood the API server.
// Staleness is bounded (docs/performance.md, Status write-back): a state change (Ready, observedGeneration, schedule)
// goes ahead of run progress; progress is written as soon as the rate limit has a token to spare, and only
// when it has none is the progress of one task spaced to once per `minIntervalMs`, oldest first, so with T
// tasks running each status is at most max(minIntervalMs, T / qps) behind.
import { type PeriodicTaskStatus, taskKey } from '../api/types.ts';
import type { CurrentStatusLookup, ObservedObject, StatusSink, StatusUpdate } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { observeStatusLag, statusWritesTotal } from '../observe/metrics.ts';
import { sleep } from '../timing/sleep.ts';
import { TokenBucket } from '../timing/token-bucket.ts';
import { withTimeout } from '../timing/with-timeout.ts';
import type { BackoffPolicy } from '../workqueue/backoff.ts';
import { RoundRobin } from '../workqueue/round-robin.ts';
import { WorkQueue } from '../workqueue/work-queue.ts';
import { describeApiError, httpStatus, isRetryable } from './api-errors.ts';
import type { TaskCalls } from './kube-calls.ts';
import { isStateChange, mergeUpdates, type StatusPatch, statusPatch } from './status-patch.ts';

export const FIELD_MANAGER = 'celerybeat-operator';

/** Sends one merge patch of a task's status subresource; the API server's answer (the object). */
export type StatusPatcher = (namespace: string, name: string, status: StatusPatch) => Promise<unknown>;

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
  /** Patches under way at once (each for a different resource). Default: see defaultMaxInFlight. */
  maxInFlight?: number;
  /** A patch without an answer after this long is retried (a frozen API server would hold it for minutes). Default 30 s. */
  requestTimeoutMs?: number;
  /**
   * While the rate limit has no token to spare, run progress of one task is written at most this often (state
   * changes are not held). Default 10 s.
   */
  minIntervalMs?: number;
  /** The jitter's source of the retry backoff (tests fix it; 1 gives the unjittered delay). */
  random?: () => number;
}

/** Default of `minIntervalMs`: a status shows a run within 10 s while the rate limit is short. */
export const STATUS_MIN_INTERVAL_MS = 10_000;

/** Answer time of a status patch up to which the writer still reaches its qps (a busy API server's). */
const PATCH_LATENCY_ALLOWANCE_S = 0.25;

/**
 * Patches under way at once: enough to write `qps` a second while each answer takes up to 250 ms, and at
 * least 4. A fixed few would set the rate by the server's latency instead (4 at 40 ms: 100 a second, whatever
 * the qps); the token bucket still bounds the rate.
 */
function defaultMaxInFlight(qps: number): number {
  return Math.max(4, Math.ceil(qps * PATCH_LATENCY_ALLOWANCE_S));
}

interface Pending {
  namespace: string;
  name: string;
  update: StatusUpdate;
  firstReportedAt: number;
  /** Pending when flush() was called: written without waiting for its retry backoff or its interval. */
  flushing: boolean;
  /** Carries a state change: written before run progress, without waiting for the interval. */
  urgent: boolean;
  /** One write attempt of this entry has finished (written, dropped, or re-queued as a new entry). */
  attempted: boolean;
}

interface Written {
  uid: string | undefined;
  status: PeriodicTaskStatus | undefined;
  /** The cache's object when the patch was sent: once the watch replaces it, the cache is as fresh as this. */
  cachedAtWrite: ObservedObject | undefined;
}

export class StatusWriter implements StatusSink {
  readonly #patch: StatusPatcher;
  readonly #options: StatusWriterOptions;
  readonly #minIntervalMs: number;
  readonly #bucket: TokenBucket;
  /**
   * Resources whose last write failed: each waits out its own backoff before the pump writes it again. The
   * pending entry holds what to write; the queue says when its retry is due.
   */
  readonly #retries: WorkQueue<string>;
  readonly #maxInFlight: number;
  readonly #pending = new Map<string, Pending>();
  /** The pending keys by namespace, each namespace in turn, so one namespace's thousands wait their turn. */
  readonly #order = new RoundRobin<string>();
  /** Writes under way, at most one per resource so that an older state can never land after a newer one. */
  readonly #inFlight = new Map<string, { entry: Pending; done: Promise<void> }>();
  /** What our own last patch returned: fresher than the cache until the watch catches up. */
  readonly #written = new Map<string, Written>();
  /** When each task was last written: its progress waits until minIntervalMs after that. */
  readonly #lastWriteAt = new Map<string, number>();
  /** Keys whose pending entry carries a state change, oldest first, namespaces in turn. */
  readonly #urgent = new RoundRobin<string>();
  #pump: Promise<void> | undefined;
  #wake = new AbortController();
  #flushWaiters: { entries: Pending[]; resolve: () => void }[] = [];

  constructor(patch: StatusPatcher, options: StatusWriterOptions) {
    this.#patch = patch;
    this.#options = options;
    this.#minIntervalMs = options.minIntervalMs ?? STATUS_MIN_INTERVAL_MS;
    this.#bucket = new TokenBucket(options.qps, options.burst);
    this.#retries = new WorkQueue({
      backoff: options.retryBackoff ?? { initialMs: 1000, maxMs: 60_000 },
      onReady: () => this.#retryDue(),
      ...(options.random ? { random: options.random } : {}),
    });
    this.#maxInFlight = options.maxInFlight ?? defaultMaxInFlight(options.qps);
    observeStatusLag(() => this.lagSeconds());
  }

  report(namespace: string, name: string, update: StatusUpdate): void {
    const key = taskKey(namespace, name);
    const urgent = isStateChange(update, this.#current(key, namespace, name));
    const existing = this.#pending.get(key);
    if (existing) {
      existing.update = mergeUpdates(existing.update, update);
      existing.urgent ||= urgent;
    } else {
      this.#queue(key, newEntry(namespace, name, update, Date.now(), urgent));
    }
    if (urgent) this.#urgent.add(key, namespace);
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

  /** A retry came due: its entry is writable again, and the pump writes it in its turn. */
  #retryDue(): void {
    for (let key = this.#retries.get(); key !== undefined; key = this.#retries.get()) this.#retries.done(key);
    this.#kick();
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
    let settledInARow = 0;
    while (this.#pending.size > 0 || this.#inFlight.size > 0) {
      const ready = this.#inFlight.size < this.#maxInFlight ? this.#nextReady() : undefined;
      const next = ready && 'entry' in ready ? ready : undefined;
      if (!next) {
        // Nothing to start now: wait for a write to finish, a wake-up (a report, a flush, a retry come due),
        // or the end of the interval of the task that is next.
        this.#wake = new AbortController();
        const writes = [...this.#inFlight.values()].map((write) => write.done);
        const waits: Promise<void>[] = [...writes, aborted(this.#wake.signal)];
        if (ready && 'at' in ready) waits.push(sleep(Math.max(1, ready.at - Date.now()), this.#wake.signal));
        await Promise.race(waits).catch(() => {});
        this.#wake.abort();
        continue;
      }
      const { key, entry } = next;
      // What would change nothing costs no request: a new leader re-reports every task's Ready and schedule,
      // which the previous leader mostly wrote already, and those must not use up the rate limit.
      this.#urgent.served(entry.namespace);
      this.#order.served(entry.namespace);
      if (!this.#patchBody(key, entry)) {
        this.#unqueue(key, entry);
        this.#unchanged(key);
        entry.attempted = true;
        this.#settleFlush();
        // A hundred thousand of them at a takeover would otherwise hold the event loop (the beat) meanwhile.
        if (++settledInARow % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      settledInARow = 0;
      for (let wait = this.#bucket.take(); wait > 0; wait = this.#bucket.take()) await sleep(wait);
      // The entry may have been merged into while waiting for a token; it is written in its latest state.
      this.#unqueue(key, entry);
      this.#lastWriteAt.set(key, Date.now());
      const done = this.#write(key, entry).finally(() => {
        this.#inFlight.delete(key);
        entry.attempted = true;
        this.#settleFlush();
      });
      this.#inFlight.set(key, { entry, done });
    }
  }

  /**
   * The entry to write now: the oldest state change, else the oldest progress whose interval has passed (or
   * that is flushed), else, while the rate limit has a token to spare, the oldest progress: spacing is for when
   * the budget is short. When only intervals hold entries back, the time the first of them ends.
   */
  #nextReady(): { key: string; entry: Pending } | { at: number } | undefined {
    // A key leaves #urgent with its pending entry (#unqueue), so each one here has its entry.
    for (const key of this.#urgent) {
      const entry = this.#pending.get(key)!;
      if (this.#writable(key, entry)) return { key, entry };
    }
    const now = Date.now();
    let at = Number.POSITIVE_INFINITY;
    let spaced: { key: string; entry: Pending } | undefined;
    // Entries are in the order of their first report, namespaces in turn: the first eligible one is the oldest
    // of the namespace whose turn it is. Saturated, that is the first entry (its task was last written long
    // ago), so this loop is short when it matters.
    for (const key of this.#order) {
      const entry = this.#pending.get(key)!;
      if (!this.#writable(key, entry)) continue;
      if (entry.flushing) return { key, entry };
      const allowedAt = (this.#lastWriteAt.get(key) ?? Number.NEGATIVE_INFINITY) + this.#minIntervalMs;
      if (allowedAt <= now) return { key, entry };
      spaced ??= { key, entry };
      at = Math.min(at, allowedAt);
    }
    if (spaced) {
      const tokenIn = this.#bucket.msUntilToken(now);
      if (tokenIn === 0) return spaced;
      at = Math.min(at, now + tokenIn);
    }
    return at === Number.POSITIVE_INFINITY ? undefined : { at };
  }

  #queue(key: string, entry: Pending): void {
    this.#pending.set(key, entry);
    this.#order.add(key, entry.namespace);
  }

  #unqueue(key: string, entry: Pending): void {
    this.#pending.delete(key);
    this.#order.delete(key, entry.namespace);
    this.#urgent.delete(key, entry.namespace);
  }

  /** Not under way, and not waiting out a retry backoff (unless flushed). */
  #writable(key: string, entry: Pending): boolean {
    return !this.#inFlight.has(key) && (entry.flushing || !this.#retries.isWaiting(key));
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
    if (written && cached && cached !== written.cachedAtWrite) {
      // The watch has brought a newer object (ours or later): the cache is the truth again, and the copy of
      // what we wrote need not be kept (at 100,000 tasks it would be a second status per task).
      this.#written.delete(key);
      return cached.status;
    }
    // A resource deleted and re-created under the same name has a new uid: our record is then stale.
    if (written && (!cached || cached.metadata.uid === written.uid)) return written.status;
    return cached?.status;
  }

  #patchBody(key: string, entry: Pending): StatusPatch | undefined {
    return statusPatch(entry.update, this.#current(key, entry.namespace, entry.name), new Date());
  }

  /** A patch that would change nothing is not sent: the task's next progress need not wait for an interval. */
  #unchanged(key: string): void {
    statusWritesTotal.inc({ result: 'unchanged' });
    this.#retries.forget(key);
    this.#lastWriteAt.delete(key);
  }

  async #write(key: string, entry: Pending): Promise<void> {
    const { namespace, name } = entry;
    // Taken again: the entry may have been merged into while it waited for a token.
    const body = this.#patchBody(key, entry);
    if (!body) {
      this.#unchanged(key);
      return;
    }
    const cachedAtWrite = this.#options.currentStatus(namespace, name);
    try {
      const request = this.#patch(namespace, name, body);
      // A merge patch is idempotent, so an abandoned request that lands late does no harm.
      const timeoutMs = this.#options.requestTimeoutMs ?? 30_000;
      const response: unknown = await withTimeout(
        request,
        timeoutMs,
        () => new Error(`no answer from the API server within ${timeoutMs} ms`),
      );
      statusWritesTotal.inc({ result: 'written' });
      this.#retries.forget(key);
      this.#written.set(key, readWritten(response, cachedAtWrite));
    } catch (error) {
      const status = httpStatus(error);
      const log = this.#options.logger.child({ namespace, name });
      if (status === 404) {
        statusWritesTotal.inc({ result: 'gone' });
        this.#retries.forget(key);
        this.#written.delete(key);
        this.#lastWriteAt.delete(key);
        log.debug('PeriodicTask is gone, status update dropped');
      } else if (isRetryable(error)) {
        statusWritesTotal.inc({ result: 'retry' });
        const newer = this.#pending.get(key);
        if (newer) {
          // A report arrived while this write was under way: keep its entry (a flush may be waiting on it).
          newer.update = mergeUpdates(entry.update, newer.update);
          newer.firstReportedAt = entry.firstReportedAt;
          newer.urgent ||= entry.urgent;
        } else {
          this.#queue(key, newEntry(namespace, name, entry.update, entry.firstReportedAt, entry.urgent));
        }
        if (entry.urgent) this.#urgent.add(key, namespace);
        // Its retry backoff paces it now, not the interval.
        this.#lastWriteAt.delete(key);
        const retryInMs = this.#retries.addRateLimited(key);
        log.warn({ retryInMs }, `status write failed, will retry: ${describeApiError(error)}`);
      } else {
        statusWritesTotal.inc({ result: 'rejected' });
        this.#retries.forget(key);
        log.error({ patch: body }, `status write rejected: ${describeApiError(error)}`);
      }
    }
  }
}

function newEntry(
  namespace: string,
  name: string,
  update: StatusUpdate,
  reportedAt: number,
  urgent: boolean,
): Pending {
  return { namespace, name, update, firstReportedAt: reportedAt, flushing: false, urgent, attempted: false };
}

/** The status patch of the API server behind `api`, as the operator's field manager. */
export function statusPatcher(api: Pick<TaskCalls, 'patchTaskStatus'>): StatusPatcher {
  return (namespace, name, status) => api.patchTaskStatus(namespace, name, status, FIELD_MANAGER);
}

/** Resolves when the signal aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function readWritten(response: unknown, cachedAtWrite: ObservedObject | undefined): Written {
  const object =
    typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
  const metadata = typeof object.metadata === 'object' && object.metadata !== null ? object.metadata : {};
  const uid = (metadata as { uid?: unknown }).uid;
  return {
    cachedAtWrite,
    uid: typeof uid === 'string' ? uid : undefined,
    status:
      typeof object.status === 'object' && object.status !== null
        ? (object.status as PeriodicTaskStatus)
        : undefined,
  };
}
