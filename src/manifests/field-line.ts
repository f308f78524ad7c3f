// Maps a validation field path such as `spec.options.priority` or `spec.args[2]` to the line of that field in
// a parsed YAML document, so that `file:line` points at the offending field.
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter } from 'yaml';

type Segment = string | number;

/** "spec.args[2].x" → ["spec", "args", 2, "x"]; map keys may themselves contain dots (header names). */
function segmentsOf(path: string): Segment[] {
  const out: Segment[] = [];
  for (const part of path.split('.')) {
    const m = /^(.*?)((?:\[\d+\])*)$/.exec(part)!;
    if (m[1] !== '') out.push(m[1]!);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/**
 * The 1-based line of the field at `path`, or of its nearest parent present in the document (a missing
 * required field points at the object that lacks it); undefined when not even the first segment is there.
 */
export function fieldLine(doc: Document, lineCounter: LineCounter, path: string): number | undefined {
  const segments = segmentsOf(path);
  let node: unknown = doc.contents;
  let offset: number | undefined;
  let i = 0;
  while (i < segments.length) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = segments[i]!;
    if (typeof segment === 'number') {
      if (!isSeq(node)) break;
      const item: unknown = node.items[segment];
      const start = (item as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (start === undefined) break;
      offset = start;
      node = item;
      i++;
      continue;
    }
    if (!isMap(node)) break;
    const map = node;
    // The longest run of segments that is one key: a header named "a.b" is one key, not two.
    let matched = 0;
    for (let j = segments.length; j > i && matched === 0; j--) {
      const run = segments.slice(i, j);
      if (run.some((s) => typeof s === 'number')) continue;
      const key = run.join('.');
      const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (!pair || !isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) continue;
      offset = pair.key.range[0];
      node = pair.value;
      matched = j - i;
    }
    if (matched === 0) break;
    i += matched;
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}
