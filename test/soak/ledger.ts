// The ledger of a soak: every slot each task had in the observed window, classified from what the workers ran,
// the run state Redis held and the status. The run state is read as a chain of samples: between two samples the
// cursor passed some slots, and the counters say how each was accounted for (run, unknown outcome, missed,
// paused); the workers say which of them ran, and how often. A chain breaks where Redis lost the key's run
// state (a key gone, or counters that went back): the slots in between are the store's loss, allowed only
// when a fault that loses the store's data explains it.
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import type {
  Execution,
  Fault,
  History,
  Incarnation,
  RunNow,
  RunSample,
  SlotRule,
  StoredRunState,
} from './history.ts';

export const ALLOWED_CLASSES = [
  'run once',
  'counted missed',
  'counted paused',
  'unknown outcome',
  'lost with the store',
  'redelivered after its worker died',
  'run-now run once',
  'run-now superseded or withdrawn',
] as const;

export const FORBIDDEN_CLASSES = [
  'run twice',
  'run but not counted',
  'lost without being counted',
  'counted more than its slots',
  'counted as run, never ran',
  'run while deleted',
  'run while disabled',
  'run while paused',
  'ran an old definition',
  'run of no task',
  'status not converged',
] as const;

export type AllowedClass = (typeof ALLOWED_CLASSES)[number];
export type ForbiddenClass = (typeof FORBIDDEN_CLASSES)[number];
export type SlotClass = AllowedClass | ForbiddenClass;

/**
 * Fault types whose injection loses what Redis held: the run state may go back to what the status shows. A
 * failover is not one: durable claims keep every claim on the promoted replica.
 */
export const STORE_LOSS_FAULTS: ReadonlySet<string> = new Set(['redis-restart-empty']);
/** Fault types that kill a worker under a run, which the broker may then deliver again. */
const WORKER_LOSS_FAULTS: ReadonlySet<string> = new Set(['worker-kill']);

/** A fault explains what happens from a little before it starts until the parts have settled after it. */
const FAULT_LEAD_MS = 2000;
const FAULT_SETTLE_MS = 15_000;

export interface Finding {
  class: ForbiddenClass;
  task: string;
  /** The slot (ISO) or the stretch of slots, and what was seen. */
  detail: string;
  fault: string;
}

export interface Ledger {
  seed: number;
  /** fault type ('none' for slots no fault explains) → class → slots. */
  table: Map<string, Map<SlotClass, number>>;
  findings: Finding[];
  slotsChecked: number;
}

/** How many slots of `rule` lie in (after, atOrBefore], the grid of an interval running through `after`. */
export function slotsBetween(rule: SlotRule, after: number, atOrBefore: number): number {
  if (!(atOrBefore > after)) return 0;
  switch (rule.kind) {
    case 'interval':
      return Math.floor((atOrBefore - after + 0.5) / rule.everyMs);
    case 'minutely':
      return Math.floor(atOrBefore / 60_000) - Math.floor(after / 60_000);
    case 'clocked':
      return rule.at > after && rule.at <= atOrBefore ? 1 : 0;
  }
}

export function faultAt(faults: readonly Fault[], at: number): string {
  let found: Fault | undefined;
  for (const f of faults) {
    if (at >= f.start - FAULT_LEAD_MS && at <= f.end + FAULT_SETTLE_MS && (!found || f.start > found.start))
      found = f;
  }
  return found?.type ?? 'none';
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The largest of `values` (0 for none), without spreading them: an hour's samples are too many arguments. */
function latest(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

class Tally {
  readonly table = new Map<string, Map<SlotClass, number>>();
  readonly findings: Finding[] = [];
  readonly #faults: readonly Fault[];
  constructor(faults: readonly Fault[]) {
    this.#faults = faults;
  }

  add(cls: SlotClass, at: number, count: number, task?: string, detail?: string, explainedBy?: string): void {
    if (count <= 0) return;
    const fault = explainedBy ?? faultAt(this.#faults, at);
    const row = this.table.get(fault) ?? new Map<SlotClass, number>();
    this.table.set(fault, row);
    row.set(cls, (row.get(cls) ?? 0) + count);
    if ((FORBIDDEN_CLASSES as readonly string[]).includes(cls) && task !== undefined)
      this.findings.push({ class: cls as ForbiddenClass, task, detail: detail ?? iso(at), fault });
  }
}

interface Read {
  at: number;
  state: StoredRunState;
}

/** Samples of one incarnation's key split where its run state was lost or went back. */
function chainsOf(samples: readonly RunSample[], uid: string): Read[][] {
  const chains: Read[][] = [];
  let chain: Read[] = [];
  let broken = false;
  for (const { at, state } of samples) {
    if (state === null || state.uid !== uid) {
      broken = chain.length > 0;
      continue;
    }
    const last = chain.at(-1)?.state;
    const wentBack =
      last !== undefined &&
      (state.cursor < last.cursor ||
        state.total < last.total ||
        state.missed < last.missed ||
        state.unknown < last.unknown ||
        state.paused < last.paused);
    if ((broken || wentBack) && chain.length > 0) {
      chains.push(chain);
      chain = [];
    }
    broken = false;
    chain.push({ at, state });
  }
  if (chain.length > 0) chains.push(chain);
  return chains;
}

function checkStops(inc: Incarnation, runs: readonly Execution[], grace: number, tally: Tally): void {
  for (const run of runs) {
    if (inc.deletedAt !== null && run.slot > inc.deletedAt + grace)
      tally.add(
        'run while deleted',
        run.slot,
        1,
        inc.task,
        `${iso(run.slot)}, deleted at ${iso(inc.deletedAt)}`,
      );
    for (const stop of inc.stops) {
      if (!(run.slot > stop.from + grace && (stop.to === null || run.slot < stop.to))) continue;
      // Re-enabled: the latest slot of the stretch is the one catch-up run, sent after it ended.
      const catchUp =
        stop.kind === 'disabled' &&
        stop.to !== null &&
        run.startedAt >= stop.to &&
        !runs.some((other) => other.slot > run.slot && other.slot < (stop.to ?? 0));
      if (catchUp) continue;
      tally.add(
        stop.kind === 'paused' ? 'run while paused' : 'run while disabled',
        run.slot,
        1,
        inc.task,
        `${iso(run.slot)}, ${stop.kind} from ${iso(stop.from)} to ${stop.to === null ? 'the end' : iso(stop.to)}`,
      );
    }
    const due = inc.versions.filter((v) => v.at <= run.slot - grace).at(-1);
    if (due !== undefined && run.version < due.version)
      tally.add(
        'ran an old definition',
        run.slot,
        1,
        inc.task,
        `${iso(run.slot)} ran version ${run.version}, version ${due.version} was applied at ${iso(due.at)}`,
      );
  }
}

function explaining(
  faults: readonly Fault[],
  types: ReadonlySet<string>,
  from: number,
  to: number,
): Fault | undefined {
  return faults.find(
    (f) => types.has(f.type) && f.start - FAULT_LEAD_MS <= to && f.end + FAULT_SETTLE_MS >= from,
  );
}

function checkRuns(
  inc: Incarnation,
  runs: readonly Execution[],
  faults: readonly Fault[],
  tally: Tally,
): Execution[] {
  const bySlot = new Map<number, Execution[]>();
  for (const run of runs) bySlot.set(run.slot, [...(bySlot.get(run.slot) ?? []), run]);
  for (const [slot, same] of bySlot) {
    const extra = same.length - 1;
    if (extra === 0) continue;
    // The same message started again after the worker that started it was killed (before its ack reached the
    // broker): the broker's redelivery, not a second publish.
    const ordered = [...same].sort((x, y) => x.startedAt - y.startedAt);
    const redelivered =
      new Set(same.map((r) => r.taskId)).size === 1 &&
      ordered
        .slice(0, -1)
        .every((r, i) => r.workerKilledAt !== null && r.workerKilledAt <= ordered[i + 1]!.startedAt);
    const killed = explaining(faults, WORKER_LOSS_FAULTS, ordered[0]!.startedAt, ordered.at(-1)!.startedAt);
    const died = same.filter((r) => !r.finished);
    if (redelivered && killed !== undefined)
      tally.add('redelivered after its worker died', slot, extra, inc.task, undefined, killed.type);
    else
      tally.add(
        'run twice',
        slot,
        extra,
        inc.task,
        `${iso(slot)} started ${same.length} times (${died.length} never finished): ${same
          .map(
            (r) =>
              `${r.worker} received ${r.receivedAt === null ? '?' : iso(r.receivedAt)} started ${iso(r.startedAt)}`,
          )
          .join('; ')}`,
      );
  }
  if ((inc.oneOff || inc.rule.kind === 'clocked') && bySlot.size > 1)
    tally.add(
      'run twice',
      latest(bySlot.keys()),
      bySlot.size - 1,
      inc.task,
      `one-off ran ${bySlot.size} slots`,
    );
  return [...bySlot.values()].map((same) => same[0]!);
}

/**
 * The runs of one chain against its counters, over the whole chain, where the claims under way cancel out but
 * for the first and the last: the slot at the first cursor is in the chain when it was under way there (its
 * settling is counted in the chain), and one under way at the last cursor is counted as settled.
 */
function checkChainRuns(
  inc: Incarnation,
  chain: readonly Read[],
  runs: readonly Execution[],
  tally: Tally,
): void {
  const first = chain[0]!.state;
  const last = chain.at(-1)!.state;
  const from = first.publishing ? first.cursor - 0.5 : first.cursor;
  const ran = runs.filter((r) => r.slot > from && r.slot <= last.cursor).length;
  const runsCounted = last.total - first.total;
  const settled = runsCounted + (last.unknown - first.unknown) + Number(last.publishing);
  // Located at the step where the imbalance grew most (a claim settling one step late moves it by one only).
  const where = (imbalance: (a: StoredRunState, b: StoredRunState, ranInStep: number) => number): number => {
    let worst = { at: last.cursor, sum: 0 };
    let sum = 0;
    for (let i = 1; i < chain.length; i++) {
      const [a, b] = [chain[i - 1]!.state, chain[i]!.state];
      sum += imbalance(a, b, runs.filter((r) => r.slot > a.cursor && r.slot <= b.cursor).length);
      if (sum > worst.sum) worst = { at: b.cursor, sum };
    }
    return worst.at;
  };
  const detail = `${iso(first.cursor)}..${iso(last.cursor)}: ${ran} ran, ${runsCounted} counted as runs, ${settled} as runs or unknown outcomes`;
  if (ran > settled) {
    const at = where(
      (a, b, n) =>
        n - (b.total - a.total) - (b.unknown - a.unknown) - Number(b.publishing) + Number(a.publishing),
    );
    tally.add('run but not counted', at, ran - settled, inc.task, `${detail}; most at ${iso(at)}`);
  }
  if (runsCounted > ran) {
    const at = where((a, b, n) => b.total - a.total - n);
    tally.add('counted as run, never ran', at, runsCounted - ran, inc.task, `${detail}; most at ${iso(at)}`);
  }
}

/** One incarnation's slots, chain by chain and step by step. */
function account(
  inc: Incarnation,
  samples: readonly RunSample[],
  runs: readonly Execution[],
  history: History,
  tally: Tally,
  runNows: number,
): { slots: number; manualUnknowns: number } {
  // A run-now of unknown outcome is counted in unknownRunCount without a slot: up to one per run-now asked for.
  let budget = runNows;
  const ran = new Set(runs.map((r) => r.slot));
  const ranIn = (after: number, upTo: number): number =>
    runs.filter((r) => r.slot > after && r.slot <= upTo).length;
  const chains = chainsOf(samples, inc.uid);
  let slots = 0;
  let previousEnd: { cursor: number; at: number } | undefined;
  for (const chain of chains) {
    const { state: first, at: firstAt } = chain[0]!;
    if (previousEnd !== undefined && first.cursor > previousEnd.cursor) {
      const gap = slotsBetween(inc.rule, previousEnd.cursor, first.cursor);
      const gapRan = ranIn(previousEnd.cursor, first.cursor);
      const explained = explaining(history.faults, STORE_LOSS_FAULTS, previousEnd.at, firstAt);
      const stretch = `${iso(previousEnd.cursor)}..${iso(first.cursor)}`;
      tally.add('run once', first.cursor, gapRan, undefined, undefined, explained?.type);
      if (explained)
        tally.add('lost with the store', first.cursor, gap - gapRan, undefined, undefined, explained.type);
      else
        tally.add(
          'lost without being counted',
          first.cursor,
          gap - gapRan,
          inc.task,
          `${stretch}: run state lost, no fault explains it`,
        );
      slots += gap;
    }
    for (let i = 1; i < chain.length; i++) {
      const a = chain[i - 1]!.state;
      const b = chain[i]!.state;
      const expected = slotsBetween(inc.rule, a.cursor, b.cursor);
      const missed = b.missed - a.missed;
      const paused = b.paused - a.paused;
      // A claim under way counts for its slot: settled later as a run or an unknown outcome, in another step.
      let counted =
        b.total -
        a.total +
        (b.unknown - a.unknown) +
        missed +
        paused +
        Number(b.publishing) -
        Number(a.publishing);
      const at = b.cursor;
      const counts = `${iso(a.cursor)}..${iso(b.cursor)}: ${expected} slots, ${counted} counted (missed ${missed}, paused ${paused})`;
      const manual = Math.max(0, Math.min(budget, counted - expected, b.unknown - a.unknown));
      budget -= manual;
      counted -= manual;
      tally.add('run once', at, ranIn(a.cursor, b.cursor));
      tally.add('unknown outcome', at, b.unknown - a.unknown - manual);
      tally.add('counted missed', at, missed);
      tally.add('counted paused', at, paused);
      tally.add('lost without being counted', at, expected - counted, inc.task, counts);
      tally.add('counted more than its slots', at, counted - expected, inc.task, counts);
      slots += expected;
    }
    checkChainRuns(inc, chain, runs, tally);
    const last = chain.at(-1)!;
    previousEnd = { cursor: last.state.cursor, at: last.at };
  }
  // Whatever ran after the last cursor Redis showed was never recorded there. Not so for a deleted task: its key
  // went with it, perhaps before a sample saw its last run counted (a run after the deletion is found as such).
  const end = previousEnd?.cursor;
  for (const slot of ran) {
    if (end !== undefined && slot > end && inc.deletedAt === null)
      tally.add(
        'run but not counted',
        slot,
        1,
        inc.task,
        `${iso(slot)} ran after the last cursor ${iso(end)}`,
      );
  }
  return { slots, manualUnknowns: runNows - budget };
}

/** How long a run-now may take to be handled: a newer one, a disable or a delete within it may replace it. */
const RUN_NOW_GRACE_MS = 30_000;

/**
 * Each run-now asked for runs once (its own task id, whatever replica handles it), or it was replaced before it
 * was handled (only the annotation's latest value is read), or the task was disabled or deleted meanwhile, or
 * its publish had an unknown outcome (counted in unknownRunCount: `manualUnknowns` of them).
 */
function checkRunNows(
  inc: Incarnation,
  requests: readonly RunNow[],
  runs: readonly Execution[],
  manualUnknowns: number,
  faults: readonly Fault[],
  tally: Tally,
): void {
  let unknowns = manualUnknowns;
  for (const [i, r] of requests.entries()) {
    const same = runs.filter((run) => run.taskId === r.taskId);
    if (same.length > 0) {
      tally.add('run-now run once', r.at, 1);
      checkRuns(inc, same, faults, tally);
      if (inc.deletedAt !== null)
        for (const run of same)
          if (run.startedAt > inc.deletedAt + RUN_NOW_GRACE_MS)
            tally.add(
              'run while deleted',
              run.slot,
              1,
              inc.task,
              `run-now ${r.token} started ${iso(run.startedAt)}`,
            );
      continue;
    }
    const window = r.at + RUN_NOW_GRACE_MS;
    const superseded = requests.slice(i + 1).some((later) => later.at <= window);
    const withdrawn =
      (inc.deletedAt !== null && inc.deletedAt <= window) ||
      inc.stops.some((s) => s.kind === 'disabled' && s.from <= window && (s.to === null || s.to >= r.at));
    if (superseded || withdrawn) tally.add('run-now superseded or withdrawn', r.at, 1);
    else if (unknowns > 0) {
      unknowns -= 1;
      tally.add('unknown outcome', r.at, 1);
    } else
      tally.add(
        'lost without being counted',
        r.at,
        1,
        inc.task,
        `run-now ${r.token} (${iso(r.at)}) never ran`,
      );
  }
}

export function buildLedger(history: History): Ledger {
  const tally = new Tally(history.faults);
  const byId = new Map<string, Incarnation>();
  const runsOf = new Map<Incarnation, Execution[]>();
  const incarnationsOf = new Map<string, Incarnation[]>();
  for (const inc of history.incarnations) {
    runsOf.set(inc, []);
    incarnationsOf.set(inc.task, [...(incarnationsOf.get(inc.task) ?? []), inc]);
  }
  const requestsOf = new Map<Incarnation, RunNow[]>();
  for (const r of history.runNows ?? []) {
    const inc = history.incarnations.find((i) => i.task === r.task && i.uid === r.uid);
    if (inc === undefined) continue;
    byId.set(r.taskId, inc);
    requestsOf.set(inc, [...(requestsOf.get(inc) ?? []), r]);
  }
  const incarnationOf = (run: Execution): Incarnation | undefined => {
    const found = byId.get(run.taskId);
    if (found) return found;
    return incarnationsOf
      .get(run.task)
      ?.find((inc) => taskIdForSlot(inc.task, inc.uid, run.slot) === run.taskId);
  };
  for (const run of history.executions) {
    const inc = incarnationOf(run);
    if (inc === undefined) {
      tally.add(
        'run of no task',
        run.slot,
        1,
        run.task,
        `${iso(run.slot)}: task id ${run.taskId} is no incarnation's`,
      );
      continue;
    }
    byId.set(run.taskId, inc);
    runsOf.get(inc)!.push(run);
  }
  const samplesOf = new Map<string, RunSample[]>();
  for (const s of [...history.samples].sort((a, b) => a.at - b.at)) {
    const list = samplesOf.get(s.task);
    if (list) list.push(s);
    else samplesOf.set(s.task, [s]);
  }
  let slotsChecked = 0;
  for (const inc of history.incarnations) {
    const requests = requestsOf.get(inc) ?? [];
    const manualIds = new Set(requests.map((r) => r.taskId));
    const all = runsOf.get(inc)!;
    const scheduled = all.filter((run) => !manualIds.has(run.taskId));
    checkStops(inc, scheduled, history.editGraceMs, tally);
    const distinct = checkRuns(inc, scheduled, history.faults, tally);
    const { slots, manualUnknowns } = account(
      inc,
      samplesOf.get(inc.task) ?? [],
      distinct,
      history,
      tally,
      requests.length,
    );
    slotsChecked += slots;
    const manual = all.filter((run) => manualIds.has(run.taskId));
    checkRunNows(inc, requests, manual, manualUnknowns, history.faults, tally);
  }
  checkStatus(history, tally);
  return { seed: history.seed, table: tally.table, findings: tally.findings, slotsChecked };
}

/** The status each live task shows at the end must be what the spec calls for and what Redis holds. */
function checkStatus(history: History, tally: Tally): void {
  const end = latest(history.samples.map((s) => s.at));
  const lastState = new Map<string, StoredRunState>();
  for (const s of [...history.samples].sort((a, b) => a.at - b.at)) {
    if (s.state !== null) lastState.set(`${s.task}|${s.state.uid}`, s.state);
  }
  for (const r of history.finalStatus) {
    const problems: string[] = [];
    if (r.observedGeneration !== r.generation)
      problems.push(`observedGeneration ${r.observedGeneration} of generation ${r.generation}`);
    if (r.readyReason !== r.expectedReason)
      problems.push(`Ready ${r.readyReason}, expected ${r.expectedReason}`);
    const state = lastState.get(`${r.task}|${r.uid}`);
    if (state === undefined) problems.push('no run state in Redis');
    else {
      const pairs: Array<[string, number, number]> = [
        ['totalRunCount', r.totalRunCount, state.total],
        ['missedRunCount', r.missedRunCount, state.missed],
        ['unknownRunCount', r.unknownRunCount, state.unknown],
        ['pausedRunCount', r.pausedRunCount, state.paused],
      ];
      for (const [field, shown, stored] of pairs)
        if (shown !== stored) problems.push(`${field} ${shown}, Redis ${stored}`);
    }
    if (problems.length > 0) tally.add('status not converged', end, 1, r.task, problems.join('; '));
  }
}
