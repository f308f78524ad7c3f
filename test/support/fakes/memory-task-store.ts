// An in-memory TaskStore with the semantics of the Lua scripts (compare-and-swap on the run state, owner
// markers, fencing by the lock holder), plus ways for a test to break keys and make calls fail.
import { isDeepStrictEqual } from 'node:util';
import type { TaskDefinition } from '../../../src/api/types.ts';
import type {
  DispatchItem,
  DispatchResult,
  InvalidKey,
  LoadedPage,
  LoadedTask,
  ManualDispatchItem,
  OwnedKey,
  Owner,
  RunState,
  SettleItem,
  TaskStore,
  UpsertResult,
} from '../../../src/contracts.ts';

type Method = 'upsert' | 'dispatch' | 'settle' | 'delete' | 'listOwned' | 'loadOwned' | 'hold';

interface StoredKey {
  /** Null: a key without an owner marker (someone else's value). */
  owner: Owner | null;
  head: string;
  /** Null: the value lost its run-state tail (corrupt). */
  state: RunState | null;
  /** Set: the value does not parse at all (listOwned reports it as invalid). */
  unreadable?: string;
  /** The definition last written (upsert), which loadOwned reads back; absent in keys a test put. */
  def?: TaskDefinition;
  /** Marked as not dispatched (hold) until the next definition write. */
  held?: boolean;
}

export interface StoreCall {
  method: Method;
  taskKey?: string;
}

export class MemoryTaskStore implements TaskStore {
  readonly operatorId = 'test-operator';
  readonly keys = new Map<string, StoredKey>();
  /** Manual-run claims by task and claim identity: "publishing:<ms>", "sent" or "unknown". */
  readonly manualClaims = new Map<string, string>();
  /** Every call, in order, for tests that check what happened when. */
  readonly calls: StoreCall[] = [];
  /** What the leader lock key holds; dispatches with a non-empty token are fenced unless it matches. */
  lockHolder: string | null = null;
  readonly #failures = new Map<Method, Error[]>();
  readonly #prefix: string;

  constructor(prefix = 'test:') {
    this.#prefix = prefix;
  }

  redisKey(taskKey: string): string {
    return `${this.#prefix}${taskKey}`;
  }

  /** The next `times` calls of `method` reject with `error`. */
  failNext(method: Method, error: Error, times = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(error);
    this.#failures.set(method, queue);
  }

  stateOf(taskKey: string): RunState | null | undefined {
    return this.keys.get(taskKey)?.state;
  }

  put(taskKey: string, uid: string, state: RunState): void {
    const [namespace = '', name = ''] = taskKey.split('/');
    this.keys.set(taskKey, { owner: { namespace, name, uid }, head: '', state: { ...state } });
  }

  putForeign(taskKey: string): void {
    this.keys.set(taskKey, { owner: null, head: 'foreign', state: null });
  }

  putUnreadable(taskKey: string, reason: string): void {
    this.keys.set(taskKey, { owner: null, head: '', state: null, unreadable: reason });
  }

  /** The run-state tail is gone, the definition is still there. */
  corrupt(taskKey: string): void {
    const key = this.keys.get(taskKey);
    if (key) key.state = null;
  }

  async upsert(def: TaskDefinition, initial: RunState, head = JSON.stringify(def)): Promise<UpsertResult> {
    const taskKey = `${def.namespace}/${def.name}`;
    this.#enter('upsert', taskKey);
    const current = this.keys.get(taskKey);
    if (!current) {
      this.keys.set(taskKey, {
        owner: { namespace: def.namespace, name: def.name, uid: def.uid },
        head,
        state: { ...initial },
        def,
      });
      return { status: 'created', state: { ...initial } };
    }
    if (current.owner?.uid !== def.uid) return { status: 'foreign' };
    current.state ??= { ...initial };
    if (current.head === head && !current.held) return { status: 'unchanged', state: { ...current.state } };
    current.head = head;
    current.def = def;
    current.held = false;
    return { status: 'updated', state: { ...current.state } };
  }

  async dispatch(items: (DispatchItem | ManualDispatchItem)[], fenceToken = ''): Promise<DispatchResult[]> {
    this.#enter('dispatch');
    if (fenceToken !== '' && this.lockHolder !== fenceToken) return items.map(() => ({ status: 'fenced' }));
    return items.map((item) => ('claim' in item ? this.#claimManual(item) : this.claim(item)));
  }

  #claimManual(item: ManualDispatchItem): DispatchResult {
    const id = `${item.taskKey}|${item.claim}`;
    const found = this.manualClaims.get(id);
    if (found === undefined) {
      this.manualClaims.set(id, item.push ? 'sent' : `publishing:${item.since}`);
      return { status: 'ok' };
    }
    if (found.startsWith('publishing:'))
      return { status: 'claimed-before', claim: { state: 'publishing', since: Number(found.slice(11)) } };
    return { status: 'claimed-before', claim: { state: found === 'unknown' ? 'unknown' : 'sent' } };
  }

  async settleManual(
    taskKey: string,
    claim: string,
    since: number,
    outcome: 'sent' | 'released' | 'unknown',
  ): Promise<{ settled: boolean; state?: RunState }> {
    this.#enter('settle', taskKey);
    const id = `${taskKey}|${claim}`;
    if (this.manualClaims.get(id) !== `publishing:${since}`) return { settled: false };
    if (outcome === 'released') this.manualClaims.delete(id);
    else this.manualClaims.set(id, outcome);
    const current = this.keys.get(taskKey);
    if (outcome !== 'unknown' || !current?.state) return { settled: true };
    current.state = { ...current.state, unknownRunCount: (current.state.unknownRunCount ?? 0) + 1 };
    return { settled: true, state: { ...current.state } };
  }

  /** The compare-and-swap of one slot, at once (for simulations that dispatch synchronously). */
  claim(item: DispatchItem): DispatchResult {
    const current = this.keys.get(item.taskKey);
    if (!current) return { status: 'missing' };
    if (current.state === null) return { status: 'corrupt' };
    if (!isDeepStrictEqual(current.state, item.expected)) {
      return { status: 'conflict', stored: { ...current.state } };
    }
    current.state = { ...item.next };
    return { status: 'ok' };
  }

  async settle(items: readonly SettleItem[]): Promise<boolean[]> {
    this.#enter('settle');
    return items.map(({ taskKey, claimed, settled }) => {
      const current = this.keys.get(taskKey);
      if (!current?.state || !isDeepStrictEqual(current.state, claimed)) return false;
      current.state = { ...settled };
      return true;
    });
  }

  async delete(taskKey: string, uid: string): Promise<boolean> {
    this.#enter('delete', taskKey);
    const current = this.keys.get(taskKey);
    if (!current?.owner) return false;
    if (uid !== '' && current.owner.uid !== uid) return false;
    this.keys.delete(taskKey);
    return true;
  }

  async listOwned(): Promise<{ owned: OwnedKey[]; invalid: InvalidKey[] }> {
    this.#enter('listOwned');
    const owned: OwnedKey[] = [];
    const invalid: InvalidKey[] = [];
    for (const [taskKey, value] of this.keys) {
      if (value.unreadable !== undefined)
        invalid.push({ redisKey: this.redisKey(taskKey), reason: value.unreadable });
      else if (value.owner) owned.push({ taskKey, owner: { ...value.owner } });
    }
    return { owned, invalid };
  }

  /** Pages of `pageSize` keys (the whole store in one page unless set). */
  pageSize = Number.POSITIVE_INFINITY;

  async *loadOwned(): AsyncGenerator<LoadedPage> {
    this.#enter('loadOwned');
    let tasks: LoadedTask[] = [];
    let skipped = 0;
    let read = 0;
    for (const [taskKey, value] of [...this.keys]) {
      if (value.owner) {
        if (value.def && value.state && !value.held)
          tasks.push({ taskKey, def: value.def, state: { ...value.state } });
        else skipped += 1;
      }
      if (++read % this.pageSize === 0) {
        yield { tasks, skipped };
        [tasks, skipped] = [[], 0];
      }
    }
    yield { tasks, skipped };
  }

  async hold(taskKey: string, uid: string): Promise<boolean> {
    this.#enter('hold', taskKey);
    const current = this.keys.get(taskKey);
    if (!current?.owner || current.owner.uid !== uid) return false;
    current.held = true;
    return true;
  }

  /** Records the call and throws the failure queued for it, if any (callers are async: it becomes a rejection). */
  #enter(method: Method, taskKey?: string): void {
    this.calls.push(taskKey === undefined ? { method } : { method, taskKey });
    const error = this.#failures.get(method)?.shift();
    if (error) throw error;
  }
}
