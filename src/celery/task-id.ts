// Deterministic task ids: a UUIDv5 (RFC 9562 §5.5) of a task's identity and its slot, so two dispatchers that
// publish the same slot build the same id and workers (or result backends) can de-duplicate.
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
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** UUIDv5 of `name` (UTF-8) in `namespace`; the same value Python's `uuid.uuid5(namespace, name)` gives. */
export function uuidV5(namespace: string, name: string): string {
  return v5(uuidBytes(namespace), name);
}

/** The project's namespace for task ids: uuid5(NAMESPACE_DNS, "celerybeat.io"). Never change it: ids would change. */
export const TASK_ID_NAMESPACE = uuidV5(NAMESPACE_DNS, 'celerybeat.io');
const TASK_ID_NAMESPACE_BYTES = uuidBytes(TASK_ID_NAMESPACE);

/**
 * The task id of one slot of one PeriodicTask: UUIDv5 of `<namespace>/<name>/<uid>/<slot>`, the slot in epoch
 * milliseconds. A slot of a microsecond interval carries its fraction (`…/1796167754002.5`); a whole-millisecond
 * slot is written as before, so existing ids never change. The uid keeps a deleted and re-created resource of
 * the same name from reusing old ids.
 */
export function taskIdForSlot(taskKey: string, uid: string, slotMs: number): string {
  return v5(TASK_ID_NAMESPACE_BYTES, `${taskKey}/${uid}/${slotText(slotMs)}`);
}

/** The slot in epoch milliseconds with up to three decimals (whole microseconds). */
function slotText(slotMs: number): string {
  const micros = Math.round(slotMs * 1000);
  if (!Number.isSafeInteger(micros)) {
    throw new RangeError(`slot ${slotMs} is not a time in epoch milliseconds`);
  }
  const fraction = ((micros % 1000) + 1000) % 1000;
  const whole = (micros - fraction) / 1000;
  return fraction === 0 ? String(whole) : `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}
