// A bounded table of strings held once: a value that many tasks repeat is kept as one copy, not one per task.
// Full, it stops adding, so values that are all different cost the table nothing more; it shares memory,
// never meaning (a value not in it is used as it is).
export class SharedStrings {
  readonly #held = new Map<string, string>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The held copy of `value` (`copy` makes it, a flat one say), or undefined once the table is full. */
  get(value: string, copy: (value: string) => string = (v) => v): string | undefined {
    const known = this.#held.get(value);
    if (known !== undefined || this.#held.size >= this.#max) return known;
    const held = copy(value);
    this.#held.set(held, held);
    return held;
  }
}
