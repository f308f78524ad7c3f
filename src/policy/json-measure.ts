// The sizes a policy limits: the bytes of a value's JSON text (as the message body and headers carry it) and
// how deeply lists and objects nest in it. Values reach here validated (at most 100 levels), but the walk is
// iterative anyway, like every other walk of user JSON before the validator.

/** Bytes of the value's JSON text, UTF-8. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Levels of lists and objects: a scalar is 0, `[]` and `{}` are 1, `[[1]]` is 2. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, level]);
  }
  return deepest;
}
