// A binary min-heap of keys by time, each key at most once, with its position indexed: moving or removing a
// key is O(log n), so a work queue never scans its waiting keys (docs/workqueue.md says why it is written here).

interface Entry<K> {
  key: K;
  at: number;
}

export class KeyedHeap<K> {
  readonly #entries: Entry<K>[] = [];
  readonly #index = new Map<K, number>();

  get size(): number {
    return this.#entries.length;
  }

  has(key: K): boolean {
    return this.#index.has(key);
  }

  /** The time of `key`, or undefined when it is not in the heap. */
  at(key: K): number | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#entries[i]!.at;
  }

  /** The earliest entry, or undefined when the heap is empty. */
  peek(): Readonly<Entry<K>> | undefined {
    return this.#entries[0];
  }

  /** Adds `key` at `at`, or moves it there when it is already in the heap. */
  set(key: K, at: number): void {
    const i = this.#index.get(key);
    if (i === undefined) {
      this.#entries.push({ key, at });
      this.#index.set(key, this.#entries.length - 1);
      this.#up(this.#entries.length - 1);
      return;
    }
    const entry = this.#entries[i]!;
    const earlier = at < entry.at;
    entry.at = at;
    if (earlier) this.#up(i);
    else this.#down(i);
  }

  /** Removes and returns the earliest entry. */
  pop(): Entry<K> | undefined {
    const top = this.#entries[0];
    if (top !== undefined) this.#removeAt(0);
    return top;
  }

  delete(key: K): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#removeAt(i);
    return true;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#index.clear();
  }

  #removeAt(i: number): void {
    const entries = this.#entries;
    this.#index.delete(entries[i]!.key);
    const last = entries.pop()!;
    if (i === entries.length) return;
    entries[i] = last;
    this.#index.set(last.key, i);
    this.#up(i);
    this.#down(i);
  }

  #up(i: number): void {
    const entries = this.#entries;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (entries[parent]!.at <= entries[i]!.at) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const entries = this.#entries;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < entries.length && entries[left]!.at < entries[least]!.at) least = left;
      if (right < entries.length && entries[right]!.at < entries[least]!.at) least = right;
      if (least === i) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #swap(a: number, b: number): void {
    const entries = this.#entries;
    const first = entries[a]!;
    const second = entries[b]!;
    entries[a] = second;
    entries[b] = first;
    this.#index.set(second.key, a);
    this.#index.set(first.key, b);
  }
}
