// Deterministic task ids: a UUIDv5 of a task's identity and its slot, so two dispatchers that publish the same
// slot build the same id and workers (or result backends) can de-duplicate.
import { projectUuid } from '../api/uuid-v5.ts';

/**
 * The task id of one slot of one PeriodicTask: UUIDv5 of `<namespace>/<name>/<uid>/<slot>`, the slot in epoch
 * milliseconds. A slot of a microsecond interval carries its fraction (`…/1796167754002.5`); a whole-millisecond
 * slot is written as before, so existing ids never change. The uid keeps a deleted and re-created resource of
 * the same name from reusing old ids.
 */
export function taskIdForSlot(taskKey: string, uid: string, slotMs: number): string {
  return projectUuid(`${taskKey}/${uid}/${slotText(slotMs)}`);
}

/** The slot in epoch milliseconds with up to three decimals (whole microseconds). */
function slotText(slotMs: number): string {
  if (Number.isSafeInteger(slotMs)) return String(slotMs);
  const micros = Math.round(slotMs * 1000);
  if (!Number.isSafeInteger(micros)) {
    throw new RangeError(`slot ${slotMs} is not a time in epoch milliseconds`);
  }
  const fraction = ((micros % 1000) + 1000) % 1000;
  const whole = (micros - fraction) / 1000;
  return fraction === 0 ? String(whole) : `${whole}.${String(fraction).padStart(3, '0').replace(/0+$/, '')}`;
}
