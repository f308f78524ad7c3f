// The operators running on one Redis, each with its scope (docs/sharing-redis.md). Every replica refreshes
// its operator's entry; an operator whose scope overlaps a live neighbour's refuses to start, since the two
// would write and prune each other's keys.
import { describeScope, type OperatorScope } from './operator-scope.ts';
import type { StoreRedis } from './redis-connection.ts';
import { type ScriptedRedis, withScripts } from './scripts.ts';

/** One hash for every operator on the Redis (one key, so any Redis Cluster slot will do). */
export const OPERATOR_REGISTRY_KEY = 'celerybeat-operator:operators';

/** How often an entry is refreshed; one not refreshed for three periods is a stopped operator's. */
const DEFAULT_PERIOD_MS = 10_000;

export class OperatorOverlapError extends Error {}

export interface OperatorRegistryOptions {
  periodMs?: number;
}

export class OperatorRegistry {
  readonly #redis: ScriptedRedis;
  readonly #scope: OperatorScope;
  readonly #periodMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: StoreRedis, scope: OperatorScope, options: OperatorRegistryOptions = {}) {
    this.#redis = withScripts(redis);
    this.#scope = scope;
    this.#periodMs = options.periodMs ?? DEFAULT_PERIOD_MS;
  }

  /** Registers the operator; throws OperatorOverlapError naming both when a live neighbour overlaps it. */
  async register(): Promise<void> {
    const neighbours = await this.#call('start');
    if (neighbours.length > 0) throw new OperatorOverlapError(this.#overlapMessage(neighbours));
  }

  /**
   * Refreshes the entry every period. An overlap found then (a neighbour started while this operator's
   * entry had lapsed) goes to `onOverlap`, as does a refresh that failed.
   */
  start(onOverlap: (message: string) => void, onError: (error: Error) => void): void {
    this.#timer = setInterval(() => {
      this.#call('refresh').then(
        (neighbours) => {
          if (neighbours.length > 0) onOverlap(this.#overlapMessage(neighbours));
        },
        (error: unknown) => onError(error as Error),
      );
    }, this.#periodMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #call(mode: 'start' | 'refresh'): Promise<OperatorScope[]> {
    const { id, keyPrefix, namespace = '' } = this.#scope;
    const ttl = String(this.#periodMs * 3);
    const flat = await this.#redis.cbRegisterOperator(
      OPERATOR_REGISTRY_KEY,
      id,
      keyPrefix,
      namespace,
      ttl,
      mode,
    );
    const neighbours: OperatorScope[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const entry = JSON.parse(flat[i + 1]!) as { prefix: string; namespace: string };
      neighbours.push({
        id: flat[i]!,
        keyPrefix: entry.prefix,
        ...(entry.namespace === '' ? {} : { namespace: entry.namespace }),
      });
    }
    return neighbours;
  }

  #overlapMessage(neighbours: OperatorScope[]): string {
    const others = neighbours.map(describeScope).join('; ');
    return (
      `${describeScope(this.#scope)} overlaps the running ${others} on this Redis, ` +
      "and each would prune and overwrite the other's keys: use key prefixes neither of which begins the " +
      'other, or watch disjoint namespaces (--namespace)'
    );
  }
}
