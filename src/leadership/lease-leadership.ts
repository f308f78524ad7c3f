// `--leader-elect lease`: the Lease elector behind the Leadership interface.
//
// One deliberate difference from client-go: when the lease cannot be renewed because the API server is
// unreachable (restart, upgrade, network), the leader keeps dispatching instead of exiting. Nobody else can
// take a Lease from an API server that is down; and if a partition lets another replica take it, the
// per-slot claim in Redis still stops any slot from being published twice. Leadership ends only once the
// API server answers and the Lease is held by someone else.
import type { Leadership, LeadershipCallbacks } from '../contracts.ts';
import type { KubeApi } from '../kube/api-client.ts';
import { describeApiError, isRefusal } from '../kube/api-errors.ts';
import type { Logger } from '../observe/logger.ts';
import { LEASE_NAME, LeaseElector, readLease } from './lease-elector.ts';
import type { LeaseTimings } from './lease-timings.ts';

const PROBE_MS = 2000;
/** How long refused credentials are given to come right (a token being rotated) before the process ends. */
const REFUSAL_GRACE_MS = 30_000;

export class LeaseLeadership implements Leadership {
  readonly token = '';
  readonly #api: KubeApi;
  readonly #namespace: string;
  readonly #logger: Logger;
  #elector: LeaseElector | undefined;
  #callbacks: LeadershipCallbacks | undefined;
  #leading = false;
  #holdingOver = false;
  #refusedSince: number | undefined;
  #stopped = false;
  #probe: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  readonly #timings: LeaseTimings | undefined;

  constructor(api: KubeApi, namespace: string, logger: Logger, timings?: LeaseTimings) {
    this.#api = api;
    this.#namespace = namespace;
    this.#logger = logger;
    this.#timings = timings;
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
      logger: this.#logger,
      ...(identity ? { identity } : {}),
      ...(this.#timings ? { timings: this.#timings } : {}),
      onStartedLeading: () => {
        this.#holdingOver = false;
        if (this.#leading) return;
        this.#leading = true;
        this.#callbacks?.onStartedLeading();
      },
      onStoppedLeading: () => this.#holdOver(),
    });
    this.#elector.start();
  }

  /** The lease could not be renewed: find out whether someone else has it before giving up. */
  #holdOver(): void {
    if (this.#stopped) return;
    this.#holdingOver = true;
    const identity = this.#elector!.identity;
    const probe = async (): Promise<void> => {
      if (this.#stopped) return;
      try {
        const lease = await readLease(this.#api, this.#namespace, LEASE_NAME);
        const holder = lease.spec?.holderIdentity ?? '';
        if (holder === identity || holder === '') {
          this.#logger.info('API server reachable again and the lease is still ours: renewing');
          this.#campaign(identity);
          return;
        }
        this.#logger.error({ holder }, 'another instance holds the leader lease');
        this.#leading = false;
        this.#callbacks?.onStoppedLeading();
      } catch (error) {
        if (isRefusal(error)) {
          // Not an outage: the API server answers and refuses this identity. Keep dispatching for now (the
          // per-slot claim still guards), and let the watchdog end the process if it does not change.
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

  async confirm(): Promise<boolean> {
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
    clearTimeout(this.#probe);
    clearInterval(this.#watchdog);
    this.#leading = false;
    await this.#elector?.release();
  }
}
