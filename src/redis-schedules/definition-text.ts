// What of a hand-written value the user decides: the value without its run-state members. The source hands
// out a new task only when this changes, so the runs the operator records do not look like edits.
import { RUN_STATE_MEMBERS } from '../store/hand-written-state.ts';
import { topLevelMembers } from '../store/json-members.ts';

/**
 * The members other than run state, as written; null for a value that is not a JSON object or that carries
 * an owner marker (the operator's own keys are not hand-written).
 */
export function definitionText(raw: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  if ('owner' in value) return null;
  const members = topLevelMembers(raw);
  if (!members) return null;
  return members
    .filter((m) => !RUN_STATE_MEMBERS.has(m.key))
    .map((m) => m.text)
    .join(',');
}
