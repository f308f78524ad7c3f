// A TaskSource the test drives: it sets the desired set, whether it is synced and complete, and signals changes.
import type { PeriodicTask } from '../../../src/api/types.ts';
import type { TaskSource } from '../../../src/contracts.ts';

export class DrivenTaskSource implements TaskSource {
  objects: PeriodicTask[] = [];
  isSynced = true;
  isComplete = true;
  started = false;
  stopped = false;
  /** Called on stop (to record the order of shutdown steps). */
  onStop: (() => void) | undefined;
  #onChange: (() => void) | undefined;

  async start(onChange: () => void): Promise<void> {
    this.started = true;
    this.#onChange = onChange;
  }

  list(): PeriodicTask[] {
    return this.objects;
  }

  synced(): boolean {
    return this.isSynced;
  }

  complete(): boolean {
    return this.isComplete;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop?.();
  }

  /** Replaces the desired set and signals the change. */
  set(objects: PeriodicTask[]): void {
    this.objects = objects;
    this.signal();
  }

  signal(): void {
    this.#onChange?.();
  }
}
