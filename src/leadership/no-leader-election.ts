import type { Leadership, LeadershipCallbacks } from '../contracts.ts';

/** `--leader-elect none`: every instance leads; the per-slot claim in Redis still prevents duplicates. */
export class NoLeaderElection implements Leadership {
  readonly token = '';
  #leading = false;

  run(callbacks: LeadershipCallbacks): void {
    this.#leading = true;
    callbacks.onStartedLeading();
  }

  isLeader(): boolean {
    return this.#leading;
  }

  async confirm(): Promise<boolean> {
    return this.#leading;
  }

  healthy(): true {
    return true;
  }

  async release(): Promise<void> {
    this.#leading = false;
  }
}
