// `--leader-elect lease`: the Lease elector behind the Leadership interface.
//
// One deliberate difference from client-go: when the lease cannot be renewed because the API server is
// unreachable (restart, upgrade, network), the leader keeps dispatching instead of exiting. Nobody else can
// take a Lease from an API server that is down; and if a partition lets another replica take it, the
// per-slot claim in Redis still stops any slot from being published twice. Leadership ends only once the
// API server answers and the Lease is held by someone else.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Leadership, LeadershipCallbacks } from '../contracts.ts';
import { describeApiError } from '../kube/api-errors.ts';
import { LEASE_NAME, LeaseElector } from '../kube/lease-elector.ts';
import type { Logger } from '../observe/logger.ts';

const PROBE_MS = 2000;

export class LeaseLeadership implements Leadership {
  readonly token = '';
  readonly #kc: KubeConfig;
  readonly #namespace: string;
  readonly #logger: Logger;
  #elector: LeaseElector | undefined;
  #callbacks: LeadershipCallbacks | undefined;
  #leading = false;
  #holdingOver = false;
  #stopped = false;
  #probe: NodeJS.Timeout | undefined;

  constructor(kc: KubeConfig, namespace: string, logger: Logger) {
    this.#kc = kc;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  run(callbacks: LeadershipCallbacks): void {
    this.#callbacks = callbacks;
    this.#campaign();
  }

  #campaign(identity?: string): void {
    this.#elector = new LeaseElector(this.#kc, {
      namespace: this.#namespace,
      logger: this.#logger,
      ...(identity ? { identity } : {}),
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
    const api = this.#kc.makeApiClient(CoordinationV1Api);
    const probe = async (): Promise<void> => {
      if (this.#stopped) return;
      try {
        const lease = await api.readNamespacedLease({ name: LEASE_NAME, namespace: this.#namespace });
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
        this.#logger.warn(`API server unreachable (${describeApiError(error)}); still dispatching`);
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

  /** For /healthz: a leader riding out an API server outage is healthy; a stuck renew loop is not. */
  healthy(): true | string {
    if (this.#holdingOver) return true;
    return this.#elector?.healthy() ?? true;
  }

  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#probe);
    this.#leading = false;
    await this.#elector?.release();
  }
}
