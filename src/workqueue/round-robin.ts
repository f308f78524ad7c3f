// Keys in first-come order within their group (a namespace), the groups taken in turn: iterating gives the
// first key of every group, then the second of every group, and so on, starting with the group served least
// recently. A writer that takes the first key it can use therefore serves each group in turn, however many
// keys one group has queued.

export class RoundRobin<K> {
  /** The groups in turn order (the next to serve first), each with its keys in the order they came. */
  readonly #groups = new Map<string, Set<K>>();

  /** Queues `key` at the end of its group (where it stays when it is queued already). */
  add(key: K, group: string): void {
    let keys = this.#groups.get(group);
    if (keys === undefined) {
      keys = new Set<K>();
      this.#groups.set(group, keys);
    }
    keys.add(key);
  }

  delete(key: K, group: string): void {
    const keys = this.#groups.get(group);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.#groups.delete(group);
  }

  /** The group just got its turn: it goes behind every other group. */
  served(group: string): void {
    const keys = this.#groups.get(group);
    if (keys === undefined) return;
    this.#groups.delete(group);
    this.#groups.set(group, keys);
  }

  *[Symbol.iterator](): Generator<K> {
    let iterators: Iterator<K>[] = [...this.#groups.values()].map((keys) => keys.values());
    while (iterators.length > 0) {
      const live: Iterator<K>[] = [];
      for (const iterator of iterators) {
        const next = iterator.next();
        if (next.done) continue;
        yield next.value;
        live.push(iterator);
      }
      iterators = live;
    }
  }
}
