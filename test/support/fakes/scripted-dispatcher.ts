// A SlotDispatcher whose answers a test controls. Unscripted slots go through a TaskStore when one is given
// (claim and record, like the real dispatchers) or simply succeed. Calls can be held pending until released.
import type { PlannedSlot, SlotDispatcher, SlotOutcome, TaskStore } from '../../../src/contracts.ts';

export interface DispatchCall {
  slots: PlannedSlot[];
  fenceToken: string;
  /** The clock when the call was made. */
  at: number;
}

export class ScriptedDispatcher implements SlotDispatcher {
  readonly calls: DispatchCall[] = [];
  /** Slots whose message the "broker" accepted, in order. */
  readonly published: PlannedSlot[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly #store: TaskStore | undefined;
  readonly #clock: () => number;
  readonly #answers = new Map<string, SlotOutcome[]>();
  readonly #throws: Error[] = [];
  readonly #held: Array<() => void> = [];
  #holding = false;

  constructor(options: { store?: TaskStore; clock?: () => number } = {}) {
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
  }

  /** The next dispatches of `taskKey` get these outcomes, one per dispatch, without touching the store. */
  answer(taskKey: string, ...outcomes: SlotOutcome[]): void {
    this.#answers.set(taskKey, [...(this.#answers.get(taskKey) ?? []), ...outcomes]);
  }

  /** The next call rejects with `error` (a dispatcher bug or a lost connection). */
  throwNext(error: Error): void {
    this.#throws.push(error);
  }

  /** Calls from now on stay pending until `release()`. */
  hold(): void {
    this.#holding = true;
  }

  /** Lets every pending call go on, and stops holding new ones. */
  release(): void {
    this.#holding = false;
    for (const go of this.#held.splice(0)) go();
  }

  get pending(): number {
    return this.#held.length;
  }

  /** Every slot of `taskKey` that was published, as its scheduled instant. */
  publishedSlots(taskKey: string): number[] {
    return this.published.filter((s) => s.taskKey === taskKey).map((s) => s.next.lastTaskSlot ?? Number.NaN);
  }

  async dispatch(slots: PlannedSlot[], fenceToken: string): Promise<SlotOutcome[]> {
    this.calls.push({ slots, fenceToken, at: this.#clock() });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.#holding) await new Promise<void>((go) => this.#held.push(go));
      const error = this.#throws.shift();
      if (error) throw error;
      const outcomes: SlotOutcome[] = new Array(slots.length);
      const viaStore: number[] = [];
      for (const [i, slot] of slots.entries()) {
        const scripted = this.#answers.get(slot.taskKey)?.shift();
        if (scripted) outcomes[i] = scripted;
        else viaStore.push(i);
      }
      const results = this.#store
        ? await this.#store.dispatch(
            viaStore.map((i) => ({
              taskKey: slots[i]!.taskKey,
              expected: slots[i]!.expected,
              next: slots[i]!.next,
            })),
            fenceToken,
          )
        : viaStore.map((): SlotOutcome => ({ status: 'ok' }));
      results.forEach((result, j) => {
        const i = viaStore[j]!;
        outcomes[i] = result;
        if (result.status === 'ok' && slots[i]!.publish) this.published.push(slots[i]!);
      });
      return outcomes;
    } finally {
      this.inFlight -= 1;
    }
  }
}
