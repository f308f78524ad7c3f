// The tasks by due time, in groups (namespaces) served fairly: a batch takes the due tasks of every group in
// turn, one each per round, so a namespace with thousands of slots due at once delays another namespace's
// one slot by at most a round of one batch (as long as fewer namespaces than a batch's size are due).

import { KeyedHeap } from '../workqueue/keyed-heap.ts';

export class DueQueue {
  /** Each group's tasks by due time. */
  readonly #groups = new Map<string, KeyedHeap<string>>();
  /** The groups by the due time of their earliest task. */
  readonly #fronts = new KeyedHeap<string>();
  /** The group of each task scheduled. */
  readonly #groupOf = new Map<string, string>();

  /** Number of tasks scheduled. */
  get size(): number {
    return this.#groupOf.size;
  }

  /** Schedules `key` (of `group`) at `due`, replacing any time it had. */
  set(key: string, due: number, group = ''): void {
    const previous = this.#groupOf.get(key);
    if (previous !== undefined && previous !== group) this.delete(key);
    let heap = this.#groups.get(group);
    if (heap === undefined) {
      heap = new KeyedHeap<string>();
      this.#groups.set(group, heap);
    }
    heap.set(key, due);
    this.#groupOf.set(key, group);
    this.#fronts.set(group, heap.peek()!.at);
  }

  delete(key: string): void {
    const group = this.#groupOf.get(key);
    if (group === undefined) return;
    this.#groupOf.delete(key);
    const heap = this.#groups.get(group)!;
    heap.delete(key);
    this.#refront(group, heap);
  }

  has(key: string): boolean {
    return this.#groupOf.has(key);
  }

  /** The earliest due time, or null when nothing is scheduled. */
  peek(): number | null {
    return this.#fronts.peek()?.at ?? null;
  }

  /**
   * Removes and returns up to `limit` keys whose due time is at or before `now`: in rounds, each taking the
   * earliest key of every group with one due, the group whose key is earliest first.
   */
  popDue(now: number, limit: number): string[] {
    const keys: string[] = [];
    while (keys.length < limit) {
      const round: string[] = [];
      for (let front = this.#fronts.peek(); front && front.at <= now; front = this.#fronts.peek()) {
        round.push(front.key);
        this.#fronts.pop();
      }
      if (round.length === 0) break;
      for (const group of round) {
        const heap = this.#groups.get(group)!;
        if (keys.length < limit) {
          const { key } = heap.pop()!;
          this.#groupOf.delete(key);
          keys.push(key);
        }
        this.#refront(group, heap);
      }
    }
    return keys;
  }

  /** Puts the group back among the fronts at its earliest task, or forgets it when it has none. */
  #refront(group: string, heap: KeyedHeap<string>): void {
    const first = heap.peek();
    if (first === undefined) {
      this.#groups.delete(group);
      this.#fronts.delete(group);
    } else {
      this.#fronts.set(group, first.at);
    }
  }
}
