// `--leader-elect lease`: the Lease elector behind the Leadership interface, fenced in Redis by the Lease's
// epoch (lease-epoch.ts).
//
// One deliberate difference from client-go: when the lease cannot be renewed because the API server is
// unreachable (restart, upgrade, network), the leader keeps dispatching instead of exiting, for at most the
// hold-over limit. Nobody else can take a Lease from an API server that is down; and if a partition lets
// another replica take it, that replica's epoch in Redis refuses this one's writes at once, and this one
// steps down within one retry period. Leadership also ends once the API server answers and the Lease is
// held by someone else.
import type { Leadership, LeadershipCallbacks } from '../contracts.ts';
import { describeApiError, isRefusal } from '../kube/api-errors.ts';
import type { LeaseCalls } from '../kube/kube-calls.ts';
import type { Logger } from '../observe/logger.ts';
import { LEASE_NAME, LeaseElector, readLease } from './lease-elector.ts';
import type { EpochRecord } from './lease-epoch.ts';
import { DEFAULT_TIMINGS, type LeaseTimings } from './lease-timings.ts';

const PROBE_MS = 2000;
/** How long refused credentials are given to come right (a token being rotated) before the process ends. */
const REFUSAL_GRACE_MS = 30_000;
/** The default hold-over limit, in lease durations: an API server restart fits, a long partition does not. */
export const HOLD_OVER_LEASES = 4;
/** The token before an epoch is taken: no epoch key ever holds it, so a write carrying it is refused. */
const NO_EPOCH = 'no epoch taken';

export interface LeaseLeadershipOptions {
  /** Where the epoch that fences this operator's leader writes is kept. */
  epoch: EpochRecord;
  timings?: LeaseTimings;
  /** How long a leader that cannot renew its Lease keeps leading; default HOLD_OVER_LEASES lease durations. */
  holdOverLimitMs?: number;
  /** The Lease's name; default LEASE_NAME. */
  name?: string;
}

export class LeaseLeadership implements Leadership {
  readonly #api: LeaseCalls;
  readonly #namespace: string;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #epoch: EpochRecord;
  readonly #timings: LeaseTimings | undefined;
  readonly #checkMs: number;
  readonly #holdOverLimitMs: number;
  #elector: LeaseElector | undefined;
  #callbacks: LeadershipCallbacks | undefined;
  #leading = false;
  #holdingOver = false;
  #refusedSince: number | undefined;
  #stopped = false;
  #probe: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  /** Ends a hold-over that lasts longer than its limit. */
  #holdOverEnd: NodeJS.Timeout | undefined;
  /** The epoch this replica took, and the fence token it gives. */
  #taken: { epoch: number; leaseUid: string } | undefined;
  #token = NO_EPOCH;
  #retake: NodeJS.Timeout | undefined;
  #check: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;

  constructor(api: LeaseCalls, namespace: string, logger: Logger, options: LeaseLeadershipOptions) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = options.name ?? LEASE_NAME;
    this.#logger = logger;
    this.#epoch = options.epoch;
    this.#timings = options.timings;
    const timings = options.timings ?? DEFAULT_TIMINGS;
    this.#checkMs = timings.retryPeriodMs;
    this.#holdOverLimitMs = options.holdOverLimitMs ?? HOLD_OVER_LEASES * timings.leaseDurationMs;
  }

  get token(): string {
    return this.#token;
  }

  run(callbacks: LeadershipCallbacks): void {
    this.#callbacks = callbacks;
    this.#campaign();
    // A state the process cannot leave by itself (refused credentials) ends it, as /healthz reports it.
    this.#watchdog = setInterval(() => {
      const health = this.healthy();
      if (health === true || this.#stopped) return;
      clearInterval(this.#watchdog);
      this.#callbacks?.onFatal?.(health);
    }, PROBE_MS);
    this.#watchdog.unref();
  }

  #campaign(identity?: string): void {
    this.#elector = new LeaseElector(this.#api, {
      namespace: this.#namespace,
      name: this.#name,
      logger: this.#logger,
      ...(identity ? { identity } : {}),
      ...(this.#timings ? { timings: this.#timings } : {}),
      onStartedLeading: () => {
        this.#holdingOver = false;
        clearTimeout(this.#holdOverEnd);
        void this.#takeEpoch();
      },
      onStoppedLeading: () => this.#holdOver(),
    });
    this.#elector.start();
  }

  /** The Lease was just taken (or renewed again after a hold-over): its epoch goes to Redis before any work. */
  async #takeEpoch(): Promise<void> {
    const elector = this.#elector!;
    const taken = { epoch: elector.leaseTransitions(), leaseUid: elector.leaseUid() };
    try {
      const claim = await this.#epoch.advance(taken.epoch, taken.leaseUid, 'take');
      if (this.#stopped || elector !== this.#elector || !elector.isLeader()) return;
      if (!claim.held) {
        this.#stepDown(`a later leader's epoch (${claim.stored}) is in Redis; this one's is ${taken.epoch}`);
        return;
      }
      this.#taken = taken;
      this.#token = claim.token;
      this.#logger.info({ epoch: claim.token }, 'leader epoch recorded in Redis');
      if (this.#leading) return;
      this.#leading = true;
      this.#scheduleCheck();
      this.#callbacks?.onStartedLeading();
    } catch (error) {
      if (this.#stopped || elector !== this.#elector || !elector.isLeader()) return;
      this.#logger.warn(
        { err: error },
        'cannot record the leader epoch in Redis yet; not leading until it is',
      );
      clearTimeout(this.#retake);
      this.#retake = setTimeout(() => void this.#takeEpoch(), PROBE_MS);
    }
  }

  #scheduleCheck(): void {
    clearTimeout(this.#check);
    if (!this.#leading || this.#stopped) return;
    this.#check = setTimeout(
      () => void this.#checkEpoch().finally(() => this.#scheduleCheck()),
      this.#checkMs,
    );
  }

  /**
   * Whether the epoch in Redis is still this replica's (written back if Redis lost it): once per retry period,
   * so that a leader cut off from the API server steps down within one period of a successor's takeover even
   * when it has nothing to write, and at once when the store refused a write.
   */
  #checkEpoch(): Promise<void> {
    this.#checking ??= (async () => {
      const taken = this.#taken;
      if (!this.#leading || !taken) return;
      try {
        const claim = await this.#epoch.advance(taken.epoch, taken.leaseUid, 'keep');
        if (!claim.held && this.#leading && taken === this.#taken) {
          this.#stepDown(`another replica took over: its epoch (${claim.stored}) is in Redis`);
        }
      } catch (error) {
        // Redis unreachable: no write of ours gets through either; the next check asks again.
        this.#logger.debug({ err: error }, 'checking the leader epoch failed');
      }
    })().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** Leader work ends now: another replica leads, or this one cannot know that none does. */
  #stepDown(reason: string): void {
    this.#logger.error({ reason }, 'this replica no longer leads');
    // A hold-over probe still in flight must not report the end a second time.
    this.#holdingOver = false;
    clearTimeout(this.#holdOverEnd);
    clearTimeout(this.#check);
    clearTimeout(this.#probe);
    if (this.#leading) {
      this.#leading = false;
      this.#callbacks?.onStoppedLeading();
    } else {
      // It holds the Lease but cannot lead: exiting gives the Lease back, and the next leader's epoch is later.
      this.#callbacks?.onFatal?.(reason);
    }
  }

  /** The lease could not be renewed: find out whether someone else has it before giving up. */
  #holdOver(): void {
    if (this.#stopped) return;
    this.#holdingOver = true;
    clearTimeout(this.#holdOverEnd);
    this.#holdOverEnd = setTimeout(() => {
      if (this.#holdingOver && !this.#stopped)
        this.#stepDown(
          `the Lease could not be renewed for the hold-over limit (${this.#holdOverLimitMs} ms)`,
        );
    }, this.#holdOverLimitMs);
    const identity = this.#elector!.identity;
    const probe = async (): Promise<void> => {
      if (this.#stopped || !this.#holdingOver) return;
      try {
        const lease = await readLease(this.#api, this.#namespace, this.#name);
        if (!this.#holdingOver) return;
        const holder = lease.spec?.holderIdentity ?? '';
        if (holder === identity || holder === '') {
          this.#logger.info('API server reachable again and the lease is still ours: renewing');
          this.#campaign(identity);
          return;
        }
        this.#stepDown(`another instance holds the leader lease: ${holder}`);
      } catch (error) {
        if (isRefusal(error)) {
          // Not an outage: the API server answers and refuses this identity. Keep dispatching for now (the
          // epoch still fences), and let the watchdog end the process if it does not change.
          this.#refusedSince ??= Date.now();
          this.#logger.error(
            `the API server refuses the Lease request (${describeApiError(error)}); still dispatching`,
          );
        } else {
          this.#refusedSince = undefined;
          this.#logger.warn(`API server unreachable (${describeApiError(error)}); still dispatching`);
        }
        this.#probe = setTimeout(() => void probe(), PROBE_MS);
      }
    };
    void probe();
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** After the store refused a write: false once the epoch in Redis shows that another replica took over. */
  async confirm(): Promise<boolean> {
    await this.#checkEpoch();
    return this.#leading;
  }

  /**
   * For /healthz: a leader riding out an API server outage is healthy; a stuck renew loop is not, and neither
   * is one whose Lease requests the API server keeps refusing (401/403).
   */
  healthy(): true | string {
    if (this.#holdingOver) {
      const refusedFor = this.#refusedSince === undefined ? 0 : Date.now() - this.#refusedSince;
      return refusedFor > REFUSAL_GRACE_MS
        ? `the API server has refused this instance's Lease requests for ${refusedFor} ms`
        : true;
    }
    return this.#elector?.healthy() ?? true;
  }

  async release(): Promise<void> {
    this.#stopped = true;
    for (const timer of [this.#probe, this.#holdOverEnd, this.#retake, this.#check]) clearTimeout(timer);
    clearInterval(this.#watchdog);
    this.#leading = false;
    await this.#elector?.release();
  }
}
