// A TaskSource the test drives: it sets the desired set, whether it is synced and complete, and signals changes.
import { type PeriodicTask, taskKey } from '../../../src/api/types.ts';
import type { TaskSource } from '../../../src/contracts.ts';

export class DrivenTaskSource implements TaskSource {
  objects: PeriodicTask[] = [];
  isSynced = true;
  isComplete = true;
  started = false;
  stopped = false;
  /** Called on stop (to record the order of shutdown steps). */
  onStop: (() => void) | undefined;
  #onChange: ((keys?: ReadonlySet<string>) => void) | undefined;

  async start(onChange: (keys?: ReadonlySet<string>) => void): Promise<void> {
    this.started = true;
    this.#onChange = onChange;
  }

  list(): PeriodicTask[] {
    return this.objects;
  }

  get(key: string): PeriodicTask | undefined {
    return this.objects.find((o) => taskKey(o.metadata.namespace ?? 'default', o.metadata.name) === key);
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

  /** Replaces the desired set and signals that any task may have changed (as a relist does). */
  set(objects: PeriodicTask[]): void {
    this.objects = objects;
    this.signal();
  }

  /** Replaces the desired set and signals the keys that changed (as a watch event does). */
  change(objects: PeriodicTask[], keys: string[]): void {
    this.objects = objects;
    this.signal(new Set(keys));
  }

  signal(keys?: ReadonlySet<string>): void {
    this.#onChange?.(keys);
  }
}
