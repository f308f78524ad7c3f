// The one interface over the three leader-election modes (`--leader-elect lease|redis|none`).

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  /** Leadership is lost: stop all leader work at once (the process then exits). */
  onStoppedLeading(): void;
  onError?(error: Error): void;
}

export interface Leadership {
  /** Starts campaigning; callbacks fire as leadership is won and lost. */
  run(callbacks: LeadershipCallbacks): void;
  isLeader(): boolean;
  /** Re-checks leadership now, after the store refused this instance's token; false once it is lost. */
  confirm(): Promise<boolean>;
  /** The token dispatches are fenced by in Redis, or "" when the mode has none. */
  readonly token: string;
  /** Gives leadership up at shutdown so a standby takes over at once. */
  release(): Promise<void>;
}

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

  async release(): Promise<void> {
    this.#leading = false;
  }
}
