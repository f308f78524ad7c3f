// Applies a JSON merge patch (RFC 7386) to one document of a YAML (or JSON) manifest file by editing its text:
// only the fields the patch names change, and every other byte of the file (comments, layout, other
// documents) stays as it was. A re-serialised document would lose both. The result is parsed again and
// must equal the merge-patched object, else nothing is returned: an edit is exact or refused.
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, type Node, type Pair, parseAllDocuments, type YAMLMap } from 'yaml';

/** A merge patch: objects merge, `null` removes, anything else replaces. */
export type MergePatch = { readonly [key: string]: unknown };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7386 applied to plain JSON values. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

// Read as readManifestFile reads (YAML 1.1, as kubectl does).
const PARSE_OPTIONS = { version: '1.1' } as const;

interface Splice {
  start: number;
  end: number;
  text: string;
}

// Keys YAML 1.1 reads as something other than a string when plain.
const RESERVED_PLAIN = /^(y|yes|n|no|on|off|true|false|null|~)$/i;

class TextEditor {
  readonly #text: string;
  readonly #json: boolean;
  readonly #indentStep: number;
  readonly splices: Splice[] = [];

  constructor(text: string, json: boolean, indentStep: number) {
    this.#text = text;
    this.#json = json;
    this.#indentStep = indentStep;
  }

  key(name: string): string {
    const plain = /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(name) && !RESERVED_PLAIN.test(name);
    return plain && !this.#json ? name : JSON.stringify(name);
  }

  /** A value on one line, in flow style (JSON's double-quoted strings are YAML too). */
  flow(value: unknown): string {
    if (!isObject(value)) return JSON.stringify(value);
    const entries = Object.entries(value).map(([k, v]) => `${this.key(k)}: ${this.flow(v)}`);
    return `{${entries.join(', ')}}`;
  }

  /** The text after `key:` in a block map whose keys start at `column`. */
  block(value: unknown, column: number): string {
    if (!isObject(value) || Object.keys(value).length === 0) return ` ${this.flow(value)}`;
    const indent = ' '.repeat(column + this.#indentStep);
    return Object.entries(value)
      .map(([k, v]) => `\n${indent}${this.key(k)}:${this.block(v, column + this.#indentStep)}`)
      .join('');
  }

  column(offset: number): number {
    return offset - (this.#text.lastIndexOf('\n', offset - 1) + 1);
  }

  /** Where the line holding `offset - 1` ends (after its newline), or the end of the text. */
  lineEnd(offset: number): number {
    if (offset > 0 && this.#text[offset - 1] === '\n') return offset;
    const newline = this.#text.indexOf('\n', offset);
    return newline < 0 ? this.#text.length : newline + 1;
  }

  /** The end of a pair's value text, without the line break and blank space a block value may end with. */
  valueEnd(pair: Pair): number {
    const value = pair.value as Node | null;
    let end = value?.range ? value.range[1] : rangeOf(pair.key)[1];
    while (end > 0 && /[\s]/.test(this.#text[end - 1]!)) end--;
    return Math.max(end, rangeOf(pair.key)[1]);
  }

  apply(map: YAMLMap, patch: MergePatch): void {
    for (const [name, value] of Object.entries(patch)) {
      const pair = map.items.find((p) => isScalar(p.key) && p.key.value === name);
      if (value === null) {
        if (pair) this.remove(map, pair);
      } else if (pair && isObject(value) && isMap(pair.value)) {
        this.apply(pair.value, value);
      } else if (pair) {
        this.replace(map, pair, applyMergePatch(undefined, value));
      } else {
        this.add(map, name, applyMergePatch(undefined, value));
      }
    }
  }

  replace(map: YAMLMap, pair: Pair, value: unknown): void {
    const keyEnd = rangeOf(pair.key)[1];
    const current = pair.value as Node | null;
    // A scalar replaced by a scalar keeps what follows it on its line, such as a comment.
    if (isScalar(current) && current.range && !isObject(value) && current.range[0] > keyEnd) {
      this.splices.push({ start: current.range[0], end: current.range[1], text: this.flow(value) });
      return;
    }
    const text = map.flow
      ? `: ${this.flow(value)}`
      : `:${this.block(value, this.column(rangeOf(pair.key)[0]))}`;
    this.splices.push({ start: keyEnd, end: this.valueEnd(pair), text });
  }

  add(map: YAMLMap, name: string, value: unknown): void {
    const last = map.items.at(-1);
    if (map.flow) {
      if (last)
        this.splices.push({
          start: this.valueEnd(last),
          end: this.valueEnd(last),
          text: `, ${this.key(name)}: ${this.flow(value)}`,
        });
      else {
        const open = rangeOf(map)[0] + 1;
        this.splices.push({ start: open, end: open, text: `${this.key(name)}: ${this.flow(value)}` });
      }
      return;
    }
    if (!last) throw new Error('an empty block mapping');
    const column = this.column(rangeOf(map.items[0]!.key)[0]);
    const at = this.lineEnd(this.valueEnd(last));
    const lead = at > 0 && this.#text[at - 1] !== '\n' ? '\n' : '';
    const line = `${' '.repeat(column)}${this.key(name)}:${this.block(value, column)}\n`;
    this.splices.push({ start: at, end: at, text: `${lead}${line}` });
  }

  remove(map: YAMLMap, pair: Pair): void {
    const [keyStart] = rangeOf(pair.key);
    const end = this.valueEnd(pair);
    if (map.flow) {
      const after = /^\s*,\s*/.exec(this.#text.slice(end));
      if (after) {
        this.splices.push({ start: keyStart, end: end + after[0].length, text: '' });
        return;
      }
      const before = /,\s*$/.exec(this.#text.slice(rangeOf(map)[0], keyStart));
      this.splices.push({ start: keyStart - (before?.[0].length ?? 0), end, text: '' });
      return;
    }
    const lineStart = keyStart - this.column(keyStart);
    if (this.#text.slice(lineStart, keyStart).trim() !== '')
      throw new Error(
        `the key ${JSON.stringify(String((pair.key as { value?: unknown }).value))} does not start its line`,
      );
    if (map.items.length === 1) throw new Error('removing the only key of a block mapping');
    this.splices.push({ start: lineStart, end: this.lineEnd(end), text: '' });
  }
}

function rangeOf(node: unknown): [number, number, number] {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  if (!range) throw new Error('a node without a source position');
  return range;
}

/** The indentation of nested block mappings in the document (2 when it has none). */
function indentStep(root: YAMLMap, column: (offset: number) => number): number {
  for (const pair of root.items) {
    if (isMap(pair.value) && !pair.value.flow && pair.value.items[0]) {
      const step = column(rangeOf(pair.value.items[0].key)[0]) - column(rangeOf(pair.key)[0]);
      if (step > 0) return step;
    }
  }
  return 2;
}

/**
 * The text with document `index` (as parseAllDocuments counts them) merge-patched. Throws with the reason
 * when the document cannot be edited exactly (it is not a mapping, anchors, an unusual layout).
 */
export function patchManifestText(text: string, index: number, patch: MergePatch, json: boolean): string {
  const docs = parseAllDocuments(text, PARSE_OPTIONS);
  if (!Array.isArray(docs) || docs[index] === undefined) throw new Error(`no YAML document ${index + 1}`);
  const doc = docs[index]!;
  if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const root = doc.contents;
  if (!isMap(root)) throw new Error('the document is not a mapping');
  const probe = new TextEditor(text, json, 2);
  const editor = new TextEditor(
    text,
    json,
    indentStep(root, (o) => probe.column(o)),
  );
  editor.apply(root, patch);

  let out = text;
  for (const s of [...editor.splices].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  }
  const before = docs.map((d) => d.toJS());
  const expected = before.map((value, i) => (i === index ? applyMergePatch(value, patch) : value));
  const again = parseAllDocuments(out, PARSE_OPTIONS);
  const after =
    Array.isArray(again) && again.every((d) => d.errors.length === 0) ? again.map((d) => d.toJS()) : null;
  if (!isDeepStrictEqual(after, expected)) throw new Error('the edited text would not read back as intended');
  if (json) JSON.parse(out);
  return out;
}
