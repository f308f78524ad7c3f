// A Leadership the test decides: win() and lose() fire the callbacks the way an elector would.
import type { Leadership, LeadershipCallbacks } from '../../../src/contracts.ts';

export class ScriptedLeadership implements Leadership {
  readonly token: string;
  /** What confirm() answers while leading. */
  confirmAnswer = true;
  healthyAnswer: true | string = true;
  released = false;
  confirms = 0;
  /** Called on release (to record the order of shutdown steps). */
  onRelease: (() => void) | undefined;
  #callbacks: LeadershipCallbacks | undefined;
  #leading = false;

  constructor(token = '') {
    this.token = token;
  }

  get running(): boolean {
    return this.#callbacks !== undefined;
  }

  run(callbacks: LeadershipCallbacks): void {
    this.#callbacks = callbacks;
  }

  win(): void {
    if (!this.#callbacks) throw new Error('ScriptedLeadership.win() before run()');
    if (this.#leading) return;
    this.#leading = true;
    this.#callbacks.onStartedLeading();
  }

  lose(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#callbacks?.onStoppedLeading();
  }

  error(error: Error): void {
    this.#callbacks?.onError?.(error);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  async confirm(): Promise<boolean> {
    this.confirms += 1;
    if (this.#leading && !this.confirmAnswer) this.lose();
    return this.#leading;
  }

  healthy(): true | string {
    return this.healthyAnswer;
  }

  async release(): Promise<void> {
    this.released = true;
    this.#leading = false;
    this.onRelease?.();
  }
}
