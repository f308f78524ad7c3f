// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection package.
// Mutual exclusion comes only from optimistic concurrency: every write is a replace carrying the
// resourceVersion we read, so of two concurrent writers one gets 409 Conflict. Expiry is judged by our own
// clock (see heldByOther). This is not fencing: a paused leader may act for up to a lease duration, which is
// why the Lease's epoch fences every leader write in Redis (lease-epoch.ts).

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { describeApiError, httpStatus, isRefusal } from '../kube/api-errors.ts';
import type { Lease, LeaseCalls } from '../kube/kube-calls.ts';
import type { Logger } from '../observe/logger.ts';
import { sleep } from '../timing/sleep.ts';
import { withTimeout } from '../timing/with-timeout.ts';
import { claimRecord, heldByOther, recordFingerprint, releaseRecord } from './lease-record.ts';
import {
  DEFAULT_TIMINGS,
  JITTER_FACTOR,
  jitter,
  type LeaseTimings,
  validateTimings,
} from './lease-timings.ts';

export const LEASE_NAME = 'celerybeat-operator';

/** Reads and writes a release tries before the standby is left to wait out the lease. */
const RELEASE_ATTEMPTS = 3;

export interface LeaseElectorOptions {
  /** The operator's namespace; the Lease lives there. */
  namespace: string;
  /** Default `celerybeat-operator`. */
  name?: string;
  /** Unique per process; default `<hostname>_<uuid>` as client-go's helpers do. */
  identity?: string;
  timings?: Partial<LeaseTimings>;
  logger: Logger;
  onStartedLeading: () => void;
  /** Leadership lost (not renewed within the renew deadline). Not called by release() or stop(). */
  onStoppedLeading: () => void;
  /** The holder changed (also reports ourselves). */
  onNewLeader?: (identity: string) => void;
}

export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export class LeaseElector {
  readonly #api: LeaseCalls;
  readonly #options: LeaseElectorOptions;
  readonly #name: string;
  readonly #identity: string;
  readonly #timings: LeaseTimings;
  readonly #stop = new AbortController();
  #lease: Lease | undefined;
  #observedFingerprint = '';
  #observedAt = 0;
  #reportedLeader: string | undefined;
  #leading = false;
  #lastRenewAt = 0;
  /** Since when every attempt was refused (401/403), and why; cleared by any success. */
  #refused: { since: number; reason: string } | undefined;
  #loop: Promise<void> | undefined;

  constructor(api: LeaseCalls, options: LeaseElectorOptions) {
    this.#api = api;
    this.#options = options;
    this.#name = options.name ?? LEASE_NAME;
    this.#identity = options.identity ?? defaultIdentity();
    this.#timings = { ...DEFAULT_TIMINGS, ...options.timings };
    validateTimings(this.#timings);
    this.#setLeading(false);
  }

  get identity(): string {
    return this.#identity;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Holder changes recorded in the Lease, as last observed. */
  leaseTransitions(): number {
    return this.#lease?.spec?.leaseTransitions ?? 0;
  }

  /** The uid of the Lease as last observed: a Lease deleted and created again is another one. */
  leaseUid(): string {
    const uid = this.#lease?.metadata.uid;
    return typeof uid === 'string' ? uid : '';
  }

  /**
   * client-go's healthz check: a leader that has not renewed for lease duration + tolerance is unhealthy.
   * So is any instance whose Lease requests the API server has refused (401/403) for as long: it can never
   * lead, and a restart (new token, fixed RBAC) is the way out.
   */
  healthy(toleranceMs = 20_000): true | string {
    const refusedFor = this.#refused ? Date.now() - this.#refused.since : 0;
    if (this.#refused && refusedFor > this.#timings.leaseDurationMs + toleranceMs) {
      return `the API server has refused the Lease ${this.#options.namespace}/${this.#name} for ${refusedFor} ms: ${this.#refused.reason}`;
    }
    if (!this.#leading) return true;
    const age = Date.now() - this.#lastRenewAt;
    const limit = this.#timings.leaseDurationMs + toleranceMs;
    return age <= limit ? true : `leader has not renewed the Lease for ${age} ms (limit ${limit} ms)`;
  }

  /** Campaigns in the background until leading, then renews until the lease is lost or stop()/release(). */
  start(): void {
    if (this.#loop) throw new Error('leader elector already started');
    this.#loop = this.#run().catch((error: unknown) => {
      // #run handles API errors itself; reaching here is a bug, and a silent elector is worse than a crash.
      this.#options.logger.fatal({ err: error }, 'leader election loop failed');
      if (this.#leading) this.#lose();
    });
  }

  /** Stops campaigning and renewing without touching the Lease (as a crash would; tests use it). */
  async stop(): Promise<void> {
    this.#stop.abort(new Error('leader election stopped'));
    await this.#loop;
    this.#setLeading(false);
  }

  /**
   * Stops, then gives the lease up at once if we hold it. Call only after all leader-only work stopped.
   * The Lease is read first, as client-go does: a renew abandoned by stop() may still have been written, and
   * a release carrying our older copy would be refused, leaving the standby to wait out the lease.
   */
  async release(): Promise<void> {
    const wasLeading = this.#leading;
    await this.stop();
    if (!wasLeading) return;
    const { namespace } = this.#options;
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await readLease(this.#api, namespace, this.#name);
        if (current.spec?.holderIdentity !== this.#identity) return;
        this.#lease = await this.#replace({ ...current, spec: releaseRecord(current.spec, new Date()) });
        this.#options.logger.info({ lease: this.#name }, 'leader lease released');
        return;
      } catch (error) {
        // 409: the Lease was written between our read and our write; read it again to see whose it is.
        if (httpStatus(error) === 409 && attempt < RELEASE_ATTEMPTS) continue;
        this.#options.logger.warn(
          { lease: this.#name },
          `cannot release the leader lease: ${describeApiError(error)}`,
        );
        return;
      }
    }
  }

  async #run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#timings;
    const stopped = this.#stop.signal;
    this.#options.logger.info(
      { lease: this.#name, identity: this.#identity },
      'campaigning for the leader lease',
    );
    while (!stopped.aborted && !(await this.#tryAcquireOrRenew(Date.now() + renewDeadlineMs))) {
      await sleep(jitter(retryPeriodMs, JITTER_FACTOR), stopped);
    }
    if (stopped.aborted) return;
    this.#setLeading(true);
    this.#options.logger.info({ lease: this.#name, identity: this.#identity }, 'became leader');
    this.#options.onStartedLeading();
    while (!stopped.aborted) {
      const deadline = Date.now() + renewDeadlineMs;
      let renewed = false;
      while (!stopped.aborted && Date.now() < deadline) {
        renewed = await this.#tryAcquireOrRenew(deadline);
        if (renewed) break;
        await sleep(Math.min(retryPeriodMs, Math.max(0, deadline - Date.now())), stopped);
      }
      if (stopped.aborted) return;
      if (!renewed) {
        this.#lose();
        return;
      }
      await sleep(retryPeriodMs, stopped);
    }
  }

  #lose(): void {
    this.#setLeading(false);
    this.#options.logger.error(
      { lease: this.#name, identity: this.#identity },
      `leader lease not renewed within ${this.#timings.renewDeadlineMs} ms: leadership lost`,
    );
    this.#options.onStoppedLeading();
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
  }

  /** One attempt; false on any failure (logged). `deadline` bounds a hanging request. */
  async #tryAcquireOrRenew(deadline: number): Promise<boolean> {
    const namespace = this.#options.namespace;
    const name = this.#name;
    const durationSeconds = Math.ceil(this.#timings.leaseDurationMs / 1000);
    // A request is bounded by the deadline and by shutdown; it is abandoned, not cancelled.
    const call = <T>(request: Promise<T>) =>
      withTimeout(
        request,
        deadline - Date.now(),
        () => new Error('no answer from the API server within the renew deadline'),
        this.#stop.signal,
      );
    try {
      // Fast path: while our lease is still valid by our clock, renew from the cached object without a read.
      if (this.#leading && this.#lease && this.#observedAt + this.#timings.leaseDurationMs > Date.now()) {
        const body = {
          ...this.#lease,
          spec: claimRecord(this.#lease.spec, this.#identity, durationSeconds, new Date()),
        };
        try {
          this.#observe(await call(this.#replace(body)));
          return true;
        } catch (error) {
          this.#options.logger.debug(
            { lease: name },
            `fast renew failed, reading the Lease: ${describeApiError(error)}`,
          );
        }
      }
      let current: Lease;
      try {
        current = await call(readLease(this.#api, namespace, name));
      } catch (error) {
        if (httpStatus(error) !== 404) throw error;
        const body: Lease = {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: claimRecord(undefined, this.#identity, durationSeconds, new Date()),
        };
        this.#observe(await call(this.#api.createLease(namespace, body)));
        return true;
      }
      this.#observe(current);
      if (heldByOther(current.spec, this.#identity, this.#observedAt, Date.now())) return false;
      const body = {
        ...current,
        spec: claimRecord(current.spec, this.#identity, durationSeconds, new Date()),
      };
      this.#observe(await call(this.#replace(body)));
      this.#refused = undefined;
      return true;
    } catch (error) {
      if (isRefusal(error)) {
        const reason = `${describeApiError(error)} (check the ServiceAccount, its token and the RBAC for leases in namespace ${namespace})`;
        this.#refused = { since: this.#refused?.since ?? Date.now(), reason };
      }
      if (!this.#stop.signal.aborted) {
        const conflict = httpStatus(error) === 409;
        this.#options.logger[conflict ? 'debug' : 'warn'](
          { lease: name, identity: this.#identity },
          `${this.#leading ? 'renewing' : 'acquiring'} the leader lease failed: ${describeApiError(error)}`,
        );
      }
      return false;
    }
  }

  async #replace(body: Lease): Promise<Lease> {
    return this.#api.replaceLease(this.#options.namespace, this.#name, body);
  }

  /** Remembers the Lease; a changed record restarts the local expiry clock and may announce a new leader. */
  #observe(lease: Lease): void {
    this.#lease = lease;
    this.#refused = undefined;
    const fingerprint = recordFingerprint(lease.spec);
    if (fingerprint !== this.#observedFingerprint) {
      this.#observedFingerprint = fingerprint;
      this.#observedAt = Date.now();
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === this.#identity) this.#lastRenewAt = Date.now();
    if (holder !== '' && holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      this.#options.logger.info({ lease: this.#name, leader: holder }, 'new leader observed');
      this.#options.onNewLeader?.(holder);
    }
  }
}

/** The Lease as the API server has it (ApiError 404 when there is none). */
export function readLease(api: LeaseCalls, namespace: string, name: string): Promise<Lease> {
  return api.readLease(namespace, name);
}
