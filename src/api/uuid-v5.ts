// UUIDv5 (RFC 9562 §5.5): the project's one way to turn a name into a stable id — task ids of slots, and the
// uid of a resource read from a file (which has none). Never change the namespace: every id would change.
import { hash } from 'node:crypto';

/** RFC 9562 namespace for names that are DNS names. */
const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidBytes(uuid: string): Buffer {
  if (!UUID_PATTERN.test(uuid)) throw new Error(`uuidV5: namespace ${JSON.stringify(uuid)} is not a UUID`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function v5(namespaceBytes: Buffer, name: string): string {
  const digest = hash('sha1', Buffer.concat([namespaceBytes, Buffer.from(name, 'utf8')]), 'buffer');
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  // Written into one buffer: a string joined from its groups would be a rope of nine pieces, and every task
  // holds one of these (its uid, its last task id) for as long as it lives.
  const text = Buffer.alloc(36, '-', 'latin1');
  let at = 0;
  for (const [from, to] of GROUPS) {
    text.write(digest.toString('hex', from, to), at, 'latin1');
    at += (to - from) * 2 + 1;
  }
  return text.toString('latin1');
}

/** The byte ranges of the five groups of a UUID's text. */
const GROUPS: ReadonlyArray<readonly [number, number]> = [
  [0, 4],
  [4, 6],
  [6, 8],
  [8, 10],
  [10, 16],
];

/** UUIDv5 of `name` (UTF-8) in `namespace`; the same value Python's `uuid.uuid5(namespace, name)` gives. */
export function uuidV5(namespace: string, name: string): string {
  return v5(uuidBytes(namespace), name);
}

/** The project's namespace for task ids: uuid5(NAMESPACE_DNS, "celerybeat.io"). Never change it: ids would change. */
export const TASK_ID_NAMESPACE = uuidV5(NAMESPACE_DNS, 'celerybeat.io');
const TASK_ID_NAMESPACE_BYTES = uuidBytes(TASK_ID_NAMESPACE);

/** UUIDv5 of `name` in TASK_ID_NAMESPACE (the namespace's bytes computed once: task ids are made per slot). */
export function projectUuid(name: string): string {
  return v5(TASK_ID_NAMESPACE_BYTES, name);
}
