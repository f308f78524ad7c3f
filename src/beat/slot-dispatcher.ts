// How a planned slot reaches the broker and the store. Two ways, one interface:
// - same Redis server: claim, push and record in one Lua step (a crash can neither lose nor repeat it);
// - any other broker: claim in Redis, publish with confirmation, and give the claim back if the publish fails.
import type { TaskOptions } from '../api/types.ts';
import type {
  Broker,
  DispatchItem,
  DispatchResult,
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

export interface ClaimThenPublishOptions {
  /**
   * Publish only claims a replica confirmed (the store's claimDurably): a failover then cannot forget a
   * published slot and run it again.
   */
  durableClaims?: boolean;
}

/** A claim whose outcome is unknown or not durable: given back before the task's next attempt. */
interface Unsettled {
  claimed: PlannedSlot['next'];
  previous: PlannedSlot['expected'];
}

/** Any broker: the claim is recorded first, so a second dispatcher never publishes the same slot. */
export class ClaimThenPublishDispatcher implements SlotDispatcher {
  readonly #store: TaskStore;
  readonly #broker: Broker;
  readonly #durable: boolean;
  /**
   * Claims that may be in Redis but were never published: a dropped connection hid the reply, or no replica
   * confirmed them. Left as they are, a retry would find the slot taken and count it as run. They are
   * released (compare-and-swap, so a slot that moved on is left alone) before anything else is claimed.
   */
  readonly #unsettled = new Map<string, Unsettled>();
  #settling: Promise<void> | undefined;

  constructor(store: TaskStore, broker: Broker, options: ClaimThenPublishOptions = {}) {
    this.#store = store;
    this.#broker = broker;
    this.#durable = options.durableClaims === true && store.claimDurably !== undefined;
  }

  async dispatch(slots: PlannedSlot[], fenceToken: string): Promise<SlotOutcome[]> {
    if (slots.length === 0) return [];
    await this.#settle();
    const items = slots.map((slot) => ({ taskKey: slot.taskKey, expected: slot.expected, next: slot.next }));
    let claims: DispatchResult[];
    let durable = true;
    try {
      if (this.#durable) ({ results: claims, durable } = await this.#store.claimDurably!(items, fenceToken));
      else claims = await this.#store.dispatch(items, fenceToken);
    } catch (error) {
      for (const slot of slots)
        this.#unsettled.set(slot.taskKey, { claimed: slot.next, previous: slot.expected });
      throw error;
    }
    const outcomes: SlotOutcome[] = [...claims];
    if (!durable) {
      const error = new Error(
        'no Redis replica confirmed the claim in time (durable claims): not published, the slot is retried',
      );
      for (const [i, slot] of slots.entries()) {
        if (claims[i]!.status !== 'ok') continue;
        this.#unsettled.set(slot.taskKey, { claimed: slot.next, previous: slot.expected });
        outcomes[i] = { status: 'publish-failed', error };
      }
      await this.#settle().catch(() => undefined);
      return outcomes;
    }
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
        try {
          await this.#store.release(slot.taskKey, slot.next, slot.expected);
        } catch {
          this.#unsettled.set(slot.taskKey, { claimed: slot.next, previous: slot.expected });
        }
      }),
    );
    return outcomes;
  }

  /** Releases the unsettled claims; one pass at a time, shared by concurrent dispatches. */
  #settle(): Promise<void> {
    if (this.#unsettled.size === 0) return Promise.resolve();
    this.#settling ??= (async () => {
      const failures = await Promise.all(
        [...this.#unsettled].map(async ([taskKey, claim]) => {
          try {
            await this.#store.release(taskKey, claim.claimed, claim.previous);
          } catch (error) {
            return error as Error;
          }
          // Released, or the slot moved on (the claim never landed): either way nothing is left to undo.
          if (this.#unsettled.get(taskKey) === claim) this.#unsettled.delete(taskKey);
          return undefined;
        }),
      );
      const failure = failures.find((f) => f !== undefined);
      if (failure) {
        throw new Error(
          `${this.#unsettled.size} earlier claims of unknown outcome cannot be given back yet: ${failure.message}`,
        );
      }
    })().finally(() => {
      this.#settling = undefined;
    });
    return this.#settling;
  }
}
