// spec.jitterSeconds: each slot runs a deterministic offset in [0, jitter) after its nominal time, so that
// tasks sharing a schedule do not all fire at once. The offset is a hash of the task and the slot: every
// replica (and `next`) computes the same instant. The slot itself (its task id, `last_run_at`,
// `periodic_task_scheduled_at`) stays the nominal one, so an interval's grid does not drift.
import { createHash } from 'node:crypto';

export function jitterOffsetMs(taskKey: string, uid: string, slot: number, jitterMs: number): number {
  const digest = createHash('sha256').update(`${taskKey}/${uid}/${slot}`).digest();
  return Math.floor((digest.readUInt32BE(0) / 0x1_0000_0000) * jitterMs);
}

/** When a slot runs: its nominal time plus the task's offset for it (none without jitter). */
export function runTimeOf(
  def: { namespace: string; name: string; uid: string; jitterMs?: number },
  key: string,
  slot: number,
): number {
  return def.jitterMs ? slot + jitterOffsetMs(key, def.uid, slot, def.jitterMs) : slot;
}
