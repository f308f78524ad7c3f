// How a planned slot reaches the broker and the store. Two ways, one interface:
// - same Redis server: claim, push and record in one Lua step (a crash can neither lose nor repeat it);
// - any other broker: claim in Redis, publish with confirmation, and give the claim back if the publish fails.
import type { TaskOptions } from '../api/types.ts';
import type {
  Broker,
  DispatchItem,
  PlannedSlot,
  SlotDispatcher,
  SlotOutcome,
  TaskMessage,
  TaskStore,
} from '../contracts.ts';

/** Finds the Redis lists a message goes to and wraps it in kombu's envelope (the Redis transport's job). */
export interface RedisRouting {
  listKeys(options: TaskOptions): Promise<string[]>;
  envelope(message: TaskMessage, options: TaskOptions): string;
}

/** Broker on the store's Redis server: each slot is claimed, pushed and recorded atomically. */
export class AtomicRedisDispatcher implements SlotDispatcher {
  readonly #store: TaskStore;
  readonly #routing: RedisRouting;
  readonly #fallback: ClaimThenPublishDispatcher;

  constructor(store: TaskStore, routing: RedisRouting, broker: Broker) {
    this.#store = store;
    this.#routing = routing;
    this.#fallback = new ClaimThenPublishDispatcher(store, broker);
  }

  async dispatch(slots: PlannedSlot[], fenceToken: string): Promise<SlotOutcome[]> {
    const outcomes: SlotOutcome[] = new Array(slots.length);
    const atomic: DispatchItem[] = [];
    const atomicIndex: number[] = [];
    const fanOut: number[] = [];
    for (const [i, slot] of slots.entries()) {
      const item: DispatchItem = { taskKey: slot.taskKey, expected: slot.expected, next: slot.next };
      if (slot.publish) {
        try {
          const lists = await this.#routing.listKeys(slot.publish.options);
          // An exchange bound to several queues needs one envelope per queue: not one atomic push.
          if (lists.length !== 1) {
            fanOut.push(i);
            continue;
          }
          item.push = {
            listKey: lists[0]!,
            envelope: this.#routing.envelope(slot.publish.message, slot.publish.options),
          };
        } catch (error) {
          // Unroutable, or refused by the last check (e.g. expired meanwhile): this slot only.
          outcomes[i] = { status: 'publish-failed', error: error as Error };
          continue;
        }
      }
      atomic.push(item);
      atomicIndex.push(i);
    }
    const [results, fanOutResults] = await Promise.all([
      this.#store.dispatch(atomic, fenceToken),
      this.#fallback.dispatch(
        fanOut.map((i) => slots[i]!),
        fenceToken,
      ),
    ]);
    results.forEach((result, j) => {
      outcomes[atomicIndex[j]!] = result;
    });
    fanOutResults.forEach((result, j) => {
      outcomes[fanOut[j]!] = result;
    });
    return outcomes;
  }
}

/** Any broker: the claim is recorded first, so a second dispatcher never publishes the same slot. */
export class ClaimThenPublishDispatcher implements SlotDispatcher {
  readonly #store: TaskStore;
  readonly #broker: Broker;

  constructor(store: TaskStore, broker: Broker) {
    this.#store = store;
    this.#broker = broker;
  }

  async dispatch(slots: PlannedSlot[], fenceToken: string): Promise<SlotOutcome[]> {
    if (slots.length === 0) return [];
    const claims = await this.#store.dispatch(
      slots.map((slot) => ({ taskKey: slot.taskKey, expected: slot.expected, next: slot.next })),
      fenceToken,
    );
    const outcomes: SlotOutcome[] = [...claims];
    const toPublish = slots
      .map((slot, i) => ({ slot, i }))
      .filter(({ slot, i }) => slot.publish && claims[i]!.status === 'ok');
    if (toPublish.length === 0) return outcomes;
    const published = await this.#broker.publish(toPublish.map(({ slot }) => slot.publish!));
    await Promise.all(
      published.map(async (result, j) => {
        if (result.ok) return;
        const { slot, i } = toPublish[j]!;
        outcomes[i] = { status: 'publish-failed', error: result.error };
        await this.#store.release(slot.taskKey, slot.next, slot.expected);
      }),
    );
    return outcomes;
  }
}
