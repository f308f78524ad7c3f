// Kubernetes Events about PeriodicTasks (events.k8s.io/v1; RBAC: `create` on events.k8s.io events in the
// task's namespace). `kubectl describe pt` and `kubectl get events` show them. The same reason and message
// for one object is sent once per window, and a token bucket per namespace caps its rate, so a task that
// fails every second cannot flood etcd with Events, and a namespace with thousands of invalid tasks cannot use
// up another namespace's Events.
import { API_VERSION, KIND } from '../api/types.ts';
import type { Logger } from '../observe/logger.ts';
import { TokenBucket } from '../timing/token-bucket.ts';
import { describeApiError } from './api-errors.ts';
import type { EventCalls } from './kube-calls.ts';

export const REPORTING_CONTROLLER = 'celerybeat.io/celerybeat-operator';

export type EventType = 'Normal' | 'Warning';

/** The PeriodicTask an Event is about. */
export interface EventSubject {
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  logger: Logger;
  /** Who reports: the pod name (the API server requires it). */
  reportingInstance: string;
  /** An identical Event for one object is not re-sent within this time. Default 10 minutes. */
  dedupeWindowMs?: number;
  /** Events per second of one namespace, and the burst above it. Defaults 1 and 25. */
  qps?: number;
  burst?: number;
}

/** The API server rejects an Event note longer than 1 KiB. */
const MAX_NOTE = 1024;

export class EventRecorder {
  readonly #api: EventCalls;
  readonly #options: EventRecorderOptions;
  readonly #windowMs: number;
  readonly #qps: number;
  readonly #burst: number;
  /** Each namespace's rate limit, least recently used first; one left full by now is forgotten. */
  readonly #buckets = new Map<string, { bucket: TokenBucket; usedAt: number }>();
  readonly #lastSent = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(api: EventCalls, options: EventRecorderOptions) {
    this.#api = api;
    this.#options = options;
    this.#windowMs = options.dedupeWindowMs ?? 10 * 60_000;
    this.#qps = options.qps ?? 1;
    this.#burst = options.burst ?? 25;
  }

  warning(subject: EventSubject, reason: string, message: string, action = 'Reconcile'): void {
    this.record(subject, 'Warning', reason, message, action);
  }

  normal(subject: EventSubject, reason: string, message: string, action = 'Reconcile'): void {
    this.record(subject, 'Normal', reason, message, action);
  }

  /** Sends in the background; failures are logged, never thrown (an Event is never worth failing a reconcile). */
  record(subject: EventSubject, type: EventType, reason: string, message: string, action: string): void {
    const now = Date.now();
    this.#forgetOlderThan(now - this.#windowMs);
    const key = JSON.stringify([subject.namespace, subject.name, subject.uid ?? '', type, reason, message]);
    if (this.#lastSent.has(key)) return;
    const log = this.#options.logger.child({ namespace: subject.namespace, name: subject.name });
    if (this.#bucketOf(subject.namespace, now).take(now) > 0) {
      log.debug({ reason }, 'Event dropped by the rate limit');
      return;
    }
    this.#lastSent.set(key, now);
    const sending = this.#send(subject, type, reason, message, action).then(
      () => undefined,
      (error: unknown) => {
        // Forget it so that the next occurrence tries again.
        this.#lastSent.delete(key);
        log.warn({ reason }, `cannot record Event: ${describeApiError(error)}`);
      },
    );
    this.#inFlight.add(sending);
    sending.finally(() => this.#inFlight.delete(sending));
  }

  /** Waits for the Events being sent (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  #bucketOf(namespace: string, now: number): TokenBucket {
    // A bucket unused for burst / qps seconds is full again: a new one is the same.
    const refilledMs = (this.#burst / this.#qps) * 1000;
    for (const [name, { usedAt }] of this.#buckets) {
      if (now - usedAt < refilledMs) break;
      this.#buckets.delete(name);
    }
    const bucket = this.#buckets.get(namespace)?.bucket ?? new TokenBucket(this.#qps, this.#burst, now);
    this.#buckets.delete(namespace);
    this.#buckets.set(namespace, { bucket, usedAt: now });
    return bucket;
  }

  #forgetOlderThan(cutoff: number): void {
    // Map iteration is in insertion order, which is send order: stop at the first recent one.
    for (const [key, sentAt] of this.#lastSent) {
      if (sentAt >= cutoff) break;
      this.#lastSent.delete(key);
    }
  }

  async #send(subject: EventSubject, type: EventType, reason: string, message: string, action: string) {
    const now = new Date();
    await this.#api.createEvent(subject.namespace, {
      // client-go's naming: the object's name and a nanosecond-ish timestamp in hex, unique per object.
      metadata: {
        name: `${subject.name}.${(BigInt(now.getTime()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString(16)}`,
        namespace: subject.namespace,
      },
      eventTime: now,
      type,
      reason,
      action,
      note: message.length > MAX_NOTE ? `${message.slice(0, MAX_NOTE - 3)}...` : message,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.#options.reportingInstance,
      regarding: {
        apiVersion: API_VERSION,
        kind: KIND,
        namespace: subject.namespace,
        name: subject.name,
        uid: subject.uid,
        resourceVersion: subject.resourceVersion,
      },
    });
  }
}
