// An in-memory TaskStore with the Lua scripts' semantics (compare-and-set of the run state per key, release
// only of the slot still claimed, owner checks), for driving the Beat without Redis.
import type { TaskDefinition } from '../../src/api/types.ts';
import type {
  DispatchItem,
  DispatchResult,
  InvalidKey,
  OwnedKey,
  RunState,
  TaskStore,
  UpsertResult,
} from '../../src/contracts.ts';

interface Entry {
  def: TaskDefinition;
  state: RunState;
}

export function sameState(a: RunState, b: RunState): boolean {
  return (
    a.cursor === b.cursor &&
    a.totalRunCount === b.totalRunCount &&
    a.lastTaskId === b.lastTaskId &&
    a.lastTaskSlot === b.lastTaskSlot &&
    a.missedRunCount === b.missedRunCount
  );
}

export class MemoryTaskStore implements TaskStore {
  readonly entries = new Map<string, Entry>();

  redisKey(taskKey: string): string {
    return `mem:${taskKey}`;
  }

  async upsert(def: TaskDefinition, initial: RunState): Promise<UpsertResult> {
    const key = `${def.namespace}/${def.name}`;
    const entry = this.entries.get(key);
    if (entry && entry.def.uid !== def.uid) return { status: 'foreign' };
    if (!entry) {
      this.entries.set(key, { def, state: initial });
      return { status: 'created', state: initial };
    }
    const changed = JSON.stringify(entry.def) !== JSON.stringify(def);
    entry.def = def;
    return { status: changed ? 'updated' : 'unchanged', state: entry.state };
  }

  /** One item as the dispatch script does it: missing key, conflict on a moved state, else record. */
  claim(item: DispatchItem): DispatchResult {
    const entry = this.entries.get(item.taskKey);
    if (!entry) return { status: 'missing' };
    if (!sameState(entry.state, item.expected)) return { status: 'conflict', stored: entry.state };
    entry.state = item.next;
    return { status: 'ok' };
  }

  async dispatch(items: DispatchItem[]): Promise<DispatchResult[]> {
    return items.map((item) => this.claim(item));
  }

  async release(taskKey: string, claimed: RunState, previous: RunState): Promise<boolean> {
    const entry = this.entries.get(taskKey);
    if (!entry || !sameState(entry.state, claimed)) return false;
    entry.state = previous;
    return true;
  }

  async delete(taskKey: string, uid: string): Promise<boolean> {
    const entry = this.entries.get(taskKey);
    if (!entry || (uid !== '' && entry.def.uid !== uid)) return false;
    return this.entries.delete(taskKey);
  }

  async listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }> {
    const owned = [...this.entries].map(([taskKey, { def }]) => ({
      taskKey,
      owner: { namespace: def.namespace, name: def.name, uid: def.uid },
    }));
    return { owned, invalid: [] };
  }
}
