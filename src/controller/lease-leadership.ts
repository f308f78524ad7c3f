// `--leader-elect lease`: the Lease elector behind the Leadership interface. A Lease cannot fence Redis
// writes, so the token is empty; the per-slot claim in Redis still stops a paused old leader from
// publishing a slot the new leader already published.
import type { KubeConfig } from '@kubernetes/client-node';
import { LeaseElector } from '../kube/lease-elector.ts';
import type { Logger } from '../observe/logger.ts';
import type { Leadership, LeadershipCallbacks } from './leadership.ts';

export class LeaseLeadership implements Leadership {
  readonly token = '';
  readonly #kc: KubeConfig;
  readonly #namespace: string;
  readonly #logger: Logger;
  #elector: LeaseElector | undefined;

  constructor(kc: KubeConfig, namespace: string, logger: Logger) {
    this.#kc = kc;
    this.#namespace = namespace;
    this.#logger = logger;
  }

  run(callbacks: LeadershipCallbacks): void {
    this.#elector = new LeaseElector(this.#kc, {
      namespace: this.#namespace,
      logger: this.#logger,
      onStartedLeading: callbacks.onStartedLeading,
      onStoppedLeading: callbacks.onStoppedLeading,
    });
    this.#elector.start();
  }

  isLeader(): boolean {
    return this.#elector?.isLeader() ?? false;
  }

  async confirm(): Promise<boolean> {
    return this.isLeader();
  }

  /** For /healthz: false once the leader has failed to renew for longer than the lease allows. */
  healthy(): boolean | string {
    return this.#elector?.healthy() ?? true;
  }

  async release(): Promise<void> {
    await this.#elector?.release();
  }
}
