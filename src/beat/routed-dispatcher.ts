// The dispatcher the beat and the manual runs use: each slot goes to the line of its namespace's broker
// (src/beat/broker-registry.ts), and each line's dispatcher claims and publishes it as it would any slot. The
// namespace is read from the message (its `periodic_task_namespace` header), the identity the worker trusts,
// so the broker and that header cannot disagree. A slot that publishes nothing (a missed slot, a cursor move)
// needs no broker and goes through the operator's own line. Replace's revoke goes the same way.
import { namespaceOfMessage } from '../celery/message.ts';
import type { BrokerRouter, ManualSlot, PlannedSlot, SlotDispatcher, SlotOutcome } from '../contracts.ts';
import { redactUrl } from '../observe/redact-url.ts';
import type { BrokerRegistry } from './broker-registry.ts';

export class RoutedDispatcher implements SlotDispatcher {
  readonly #router: BrokerRouter;
  readonly #registry: BrokerRegistry;

  constructor(router: BrokerRouter, registry: BrokerRegistry) {
    this.#router = router;
    this.#registry = registry;
  }

  async dispatch(slots: readonly (PlannedSlot | ManualSlot)[], fenceToken: string): Promise<SlotOutcome[]> {
    const outcomes: SlotOutcome[] = new Array(slots.length);
    // By broker URL; the operator's own under undefined.
    const groups = new Map<string | undefined, number[]>();
    for (const [i, slot] of slots.entries()) {
      let url: string | undefined;
      if (slot.publish) {
        const route = this.#router.routeOf(namespaceOfMessage(slot.publish.message));
        if (!route.ok) {
          // Nothing is claimed: the slot is retried, and the reconciler holds the task back meanwhile.
          outcomes[i] = { status: 'publish-failed', error: new Error(route.message) };
          continue;
        }
        url = route.url;
      }
      const group = groups.get(url);
      if (group) group.push(i);
      else groups.set(url, [i]);
    }
    const done = await Promise.allSettled(
      [...groups].map(([url, indices]) => this.#dispatchTo(url, indices, slots, outcomes, fenceToken)),
    );
    // A store failure fails the whole batch, as with one broker; the other lines' claims are in Redis, so a
    // retry finds them (conflict) and never publishes them again.
    const failed = done.find((d) => d.status === 'rejected');
    if (failed) throw failed.reason;
    return outcomes;
  }

  /** Revokes runs of a namespace on its broker, where its workers listen. */
  async revoke(namespace: string, taskIds: readonly string[]): Promise<void> {
    const route = this.#router.routeOf(namespace);
    if (!route.ok) throw new Error(route.message);
    const held = await this.#registry.hold(route.url);
    try {
      await held.line.revoke(taskIds);
    } finally {
      held.release();
    }
  }

  async #dispatchTo(
    url: string | undefined,
    indices: number[],
    slots: readonly (PlannedSlot | ManualSlot)[],
    outcomes: SlotOutcome[],
    fenceToken: string,
  ): Promise<void> {
    let held: Awaited<ReturnType<BrokerRegistry['hold']>>;
    try {
      held = await this.#registry.hold(url);
    } catch (error) {
      const reason = new Error(
        `broker ${redactUrl(url ?? '')} cannot be reached: ${(error as Error).message}`,
        { cause: error },
      );
      for (const i of indices) outcomes[i] = { status: 'publish-failed', error: reason };
      return;
    }
    try {
      const results = await held.line.dispatcher.dispatch(
        indices.map((i) => slots[i]!),
        fenceToken,
      );
      results.forEach((outcome, j) => {
        outcomes[indices[j]!] = outcome;
      });
    } finally {
      held.release();
    }
  }
}
