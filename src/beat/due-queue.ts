// A min-heap of tasks by due time. Re-scheduling a task pushes a new node and leaves the old one behind to be
// skipped when it surfaces (the node's version no longer matches), which keeps every change O(log n).

interface Node {
  due: number;
  key: string;
  version: number;
}

export class DueQueue {
  readonly #heap: Node[] = [];
  readonly #versions = new Map<string, number>();
  #nextVersion = 1;

  /** Number of tasks scheduled (not of heap nodes). */
  get size(): number {
    return this.#versions.size;
  }

  /** Schedules `key` at `due`, replacing any earlier time it had. */
  set(key: string, due: number): void {
    const version = this.#nextVersion++;
    this.#versions.set(key, version);
    this.#push({ due, key, version });
    // Stale nodes are dropped lazily; rebuild when they dominate so memory stays bounded.
    if (this.#heap.length > 2 * this.#versions.size + 1024) this.#compact();
  }

  delete(key: string): void {
    this.#versions.delete(key);
  }

  has(key: string): boolean {
    return this.#versions.has(key);
  }

  /** The earliest due time, or null when nothing is scheduled. */
  peek(): number | null {
    this.#dropStale();
    return this.#heap[0]?.due ?? null;
  }

  /** Removes and returns up to `limit` keys whose due time is at or before `now`, earliest first. */
  popDue(now: number, limit: number): string[] {
    const keys: string[] = [];
    while (keys.length < limit) {
      this.#dropStale();
      const top = this.#heap[0];
      if (!top || top.due > now) break;
      this.#pop();
      this.#versions.delete(top.key);
      keys.push(top.key);
    }
    return keys;
  }

  #dropStale(): void {
    for (let top = this.#heap[0]; top && this.#versions.get(top.key) !== top.version; top = this.#heap[0]) {
      this.#pop();
    }
  }

  #compact(): void {
    const live = this.#heap.filter((node) => this.#versions.get(node.key) === node.version);
    this.#heap.length = 0;
    for (const node of live) this.#push(node);
  }

  #push(node: Node): void {
    const heap = this.#heap;
    heap.push(node);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.due <= node.due) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = node;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.due < heap[left]!.due ? right : left;
      if (heap[child]!.due >= last.due) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
