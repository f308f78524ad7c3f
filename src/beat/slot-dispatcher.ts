// How a planned slot or a manual run (run-now, backfill) reaches the broker and the store. Two ways, one
// interface, the same guarantees for both kinds (fence token, durable claims):
// - same Redis server: claim, push and record in one Lua step (a crash can neither lose nor repeat it);
// - any other broker: claim in Redis (recorded as a publish under way), publish with confirmation, then settle
//   the claim: the run when confirmed, given back when refused, kept as unknown when the outcome never came.
import type { TaskOptions } from '../api/types.ts';
import type {
  Broker,
  DispatchItem,
  DispatchResult,
  ManualDispatchItem,
  ManualSlot,
  PlannedSlot,
  PublishOutcome,
  RunState,
  SlotDispatcher,
  SlotOutcome,
  TaskMessage,
  TaskStore,
} from '../contracts.ts';
import { fromStore, StoreUnavailableError } from './dispatch-failure.ts';

/** Finds the Redis lists a message goes to and wraps it in kombu's envelope (the Redis transport's job). */
export interface RedisRouting {
  listKeys(options: TaskOptions): Promise<string[]>;
  envelope(message: TaskMessage, options: TaskOptions): string;
}

/**
 * How long a claim (a slot's or a manual run's) may stay under way before another dispatcher takes it as
 * abandoned (a crash between claim and settle) and counts it as unknown: longer than a claim's durable wait
 * and a publish's confirm timeout together, so a publish still going on elsewhere is left to finish.
 */
export const ABANDONED_CLAIM_MS = 60_000;

const isManual = (slot: PlannedSlot | ManualSlot): slot is ManualSlot => 'claim' in slot;

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

  async dispatch(slots: readonly (PlannedSlot | ManualSlot)[], fenceToken: string): Promise<SlotOutcome[]> {
    const outcomes: SlotOutcome[] = new Array(slots.length);
    const atomic: (DispatchItem | ManualDispatchItem)[] = [];
    const atomicIndex: number[] = [];
    const fanOut: number[] = [];
    for (const [i, slot] of slots.entries()) {
      const item: DispatchItem | ManualDispatchItem = isManual(slot)
        ? { taskKey: slot.taskKey, claim: slot.claim, since: Date.now() }
        : { taskKey: slot.taskKey, expected: slot.expected, next: slot.next };
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
      fromStore(() => this.#store.dispatch(atomic, fenceToken)),
      this.#fallback.dispatch(
        fanOut.map((i) => slots[i]!),
        fenceToken,
      ),
    ]);
    await Promise.all(
      results.map(async (result, j) => {
        const i = atomicIndex[j]!;
        outcomes[i] = await settleAbandoned(this.#store, slots[i]!, result);
      }),
    );
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
  /** The time a manual claim records (as a publish under way), and what an abandoned one is judged by. */
  clock?: () => number;
}

/** The claim a slot's dispatch writes: the slot taken (cursor moved), its run not counted until confirmed. */
export function claimedState(slot: PlannedSlot, since: number): RunState {
  if (!slot.publish) return slot.next;
  return {
    ...slot.next,
    totalRunCount: slot.expected.totalRunCount,
    lastTaskId: slot.expected.lastTaskId,
    lastTaskSlot: slot.expected.lastTaskSlot,
    publishing: { taskId: slot.next.lastTaskId ?? '', since },
  };
}

/** A claim whose publish outcome is unknown: kept (never sent again) and counted, never as a run. */
export function settledAsUnknown(claimed: RunState): RunState {
  const { publishing: _publishing, ...settled } = claimed;
  return { ...settled, unknownRunCount: (claimed.unknownRunCount ?? 0) + 1 };
}

/** Any broker: the claim is recorded first, so a second dispatcher never publishes the same slot. */
export class ClaimThenPublishDispatcher implements SlotDispatcher {
  readonly #store: TaskStore;
  readonly #broker: Broker;
  readonly #durable: boolean;
  readonly #clock: () => number;
  /**
   * Settling writes that did not reach Redis (it refused, or the connection dropped): a claim to give back
   * (nothing was published), or the outcome of a publish to record. They are retried, by key, before
   * anything else is claimed, so a retry never finds its own stale claim.
   */
  readonly #unsettled = new Map<string, () => Promise<unknown>>();
  #settling: Promise<void> | undefined;

  constructor(store: TaskStore, broker: Broker, options: ClaimThenPublishOptions = {}) {
    this.#store = store;
    this.#broker = broker;
    this.#durable = options.durableClaims === true && store.claimDurably !== undefined;
    this.#clock = options.clock ?? Date.now;
  }

  async dispatch(slots: readonly (PlannedSlot | ManualSlot)[], fenceToken: string): Promise<SlotOutcome[]> {
    if (slots.length === 0) return [];
    await fromStore(() => this.#settle());
    const since = this.#clock();
    const claims = slots.map(
      (slot): Claim => (isManual(slot) ? { slot, since } : { slot, claimed: claimedState(slot, since) }),
    );
    const items = claims.map((c): DispatchItem | ManualDispatchItem =>
      'since' in c
        ? { taskKey: c.slot.taskKey, claim: c.slot.claim, since }
        : { taskKey: c.slot.taskKey, expected: c.slot.expected, next: c.claimed },
    );
    let results: DispatchResult[];
    let durable = true;
    try {
      if (this.#durable) ({ results, durable } = await this.#store.claimDurably!(items, fenceToken));
      else results = await this.#store.dispatch(items, fenceToken);
    } catch (error) {
      // Nothing was published: whatever of these claims landed is given back.
      for (const c of claims) this.#queue(c, () => this.#giveBack(c));
      throw new StoreUnavailableError(error);
    }
    const outcomes: SlotOutcome[] = await Promise.all(
      results.map((result, i) => settleAbandoned(this.#store, slots[i]!, result, this.#clock())),
    );
    if (!durable) {
      const error = new Error(
        'no Redis replica confirmed the claim in time (durable claims): not published, the slot is retried',
      );
      for (const [i, c] of claims.entries()) {
        if (results[i]!.status !== 'ok') continue;
        this.#queue(c, () => this.#giveBack(c));
        outcomes[i] = { status: 'publish-failed', error };
      }
      await this.#settle().catch(() => undefined);
      return outcomes;
    }
    const toPublish = claims
      .map((c, i) => ({ c, i }))
      .filter(({ c, i }) => c.slot.publish && results[i]!.status === 'ok');
    if (toPublish.length === 0) return outcomes;
    let published: PublishOutcome[];
    try {
      published = await this.#broker.publish(toPublish.map(({ c }) => c.slot.publish!));
    } catch (error) {
      // A broker must not throw (see Broker.publish); if one does, its claims are given back all the same.
      published = toPublish.map(() => ({ ok: false, error: error as Error }));
    }
    const slotSettles: { c: SlotClaim; i: number; settled: RunState; unknown: boolean }[] = [];
    const manualSettles: Promise<void>[] = [];
    published.forEach((result, j) => {
      const { c, i } = toPublish[j]!;
      const outcome = result.ok ? 'sent' : result.unknown ? 'unknown' : 'released';
      if (!result.ok) {
        outcomes[i] = result.unknown
          ? { status: 'unknown', error: result.error }
          : { status: 'publish-failed', error: result.error };
      }
      if ('since' in c) {
        manualSettles.push(
          this.#settleNow(c, () =>
            this.#store.settleManual(c.slot.taskKey, c.slot.claim, c.since, outcome),
          ).then((done) => {
            if (outcome === 'unknown' && done?.state)
              outcomes[i] = { ...(outcomes[i] as Unknown), stored: done.state };
          }),
        );
      } else {
        const settled = result.ok
          ? c.slot.next
          : result.unknown
            ? settledAsUnknown(c.claimed)
            : c.slot.expected;
        slotSettles.push({ c, i, settled, unknown: outcome === 'unknown' });
      }
    });
    await Promise.all([this.#settleSlots(slotSettles, outcomes), ...manualSettles]);
    return outcomes;
  }

  /**
   * Writes the outcome of the slots' publishes in one pipeline; an unknown one's outcome carries the state
   * recorded. What Redis cannot take now is kept, slot by slot, for before the next claim.
   */
  async #settleSlots(
    settles: readonly { c: SlotClaim; i: number; settled: RunState; unknown: boolean }[],
    outcomes: SlotOutcome[],
  ): Promise<void> {
    const items = settles.map(({ c, settled }) => ({ taskKey: c.slot.taskKey, claimed: c.claimed, settled }));
    let done: boolean[];
    try {
      done = await this.#store.settle(items);
    } catch {
      for (const [k, { c }] of settles.entries()) this.#queue(c, () => this.#store.settle([items[k]!]));
      return;
    }
    settles.forEach(({ i, settled, unknown }, k) => {
      if (unknown && done[k]) outcomes[i] = { ...(outcomes[i] as Unknown), stored: settled };
    });
  }

  /** Nothing was published: the claim is given back, so the run is tried again. */
  async #giveBack(c: Claim): Promise<unknown> {
    if ('since' in c) return this.#store.settleManual(c.slot.taskKey, c.slot.claim, c.since, 'released');
    return this.#store.settle([{ taskKey: c.slot.taskKey, claimed: c.claimed, settled: c.slot.expected }]);
  }

  /** Settles a claim now; when Redis cannot be written, the write is kept for before the next claim. */
  async #settleNow<T>(c: Claim, write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch {
      this.#queue(c, write);
      return undefined;
    }
  }

  #queue(c: Claim, write: () => Promise<unknown>): void {
    this.#unsettled.set('since' in c ? `${c.slot.taskKey}\u0000${c.slot.claim}` : c.slot.taskKey, write);
  }

  /** Writes the pending settlements; one pass at a time, shared by concurrent dispatches. */
  #settle(): Promise<void> {
    if (this.#unsettled.size === 0) return Promise.resolve();
    this.#settling ??= (async () => {
      const failures = await Promise.all(
        [...this.#unsettled].map(async ([key, write]) => {
          try {
            await write();
          } catch (error) {
            return error as Error;
          }
          // Settled, or the slot moved on (the claim never landed): either way nothing is left to do.
          if (this.#unsettled.get(key) === write) this.#unsettled.delete(key);
          return undefined;
        }),
      );
      const failure = failures.find((f) => f !== undefined);
      if (failure) {
        throw new Error(
          `${this.#unsettled.size} earlier claims cannot be settled yet (given back, or their publish recorded): ${failure.message}`,
        );
      }
    })().finally(() => {
      this.#settling = undefined;
    });
    return this.#settling;
  }
}

/** A claim this dispatcher wrote: a scheduled slot's claimed run state, or a manual run's claim time. */
type SlotClaim = { slot: PlannedSlot; claimed: RunState };
type Claim = SlotClaim | { slot: ManualSlot; since: number };

type Unknown = Extract<SlotOutcome, { status: 'unknown' }>;

/**
 * A manual claim found under way for longer than any publish takes was abandoned (a crash between claim and
 * publish): it is counted as unknown, once (the settling is a compare-and-set), and never sent.
 */
async function settleAbandoned(
  store: TaskStore,
  slot: PlannedSlot | ManualSlot,
  result: DispatchResult,
  now = Date.now(),
): Promise<SlotOutcome> {
  if (result.status !== 'claimed-before' || result.claim.state !== 'publishing' || !isManual(slot))
    return result;
  if (now - result.claim.since < ABANDONED_CLAIM_MS) return result;
  const { settled, state } = await fromStore(() =>
    store.settleManual(slot.taskKey, slot.claim, (result.claim as { since: number }).since, 'unknown'),
  );
  if (!settled) return result;
  const error = new Error(
    `the run was claimed at ${new Date(result.claim.since).toISOString()} but its publish never settled (the dispatcher stopped): its outcome is unknown`,
  );
  return { status: 'unknown', error, ...(state ? { stored: state } : {}) };
}
