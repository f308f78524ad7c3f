// The soak's ledger on written histories: a clean run has no forbidden class, and each kind of wrong history
// (a slot run twice, a run nobody counted, a slot lost, a run while paused…) is found and named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectUuid } from '../../../src/api/uuid-v5.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import type {
  Execution,
  History,
  Incarnation,
  RunNow,
  RunSample,
  StoredRunState,
} from '../../soak/history.ts';
import { buildLedger, type ForbiddenClass, faultAt, slotsBetween } from '../../soak/ledger.ts';
import { formatLedger } from '../../soak/report.ts';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const SEC = 1000;
const TASK = 'soak/t1';
const UID = 'uid-1';

function incarnation(overrides: Partial<Incarnation> = {}): Incarnation {
  return {
    task: TASK,
    uid: UID,
    rule: { kind: 'interval', everyMs: SEC },
    oneOff: false,
    createdAt: T0,
    deletedAt: null,
    stops: [],
    versions: [{ at: T0, version: 1 }],
    ...overrides,
  };
}

function execution(slot: number, overrides: Partial<Execution> = {}): Execution {
  return {
    task: TASK,
    taskId: taskIdForSlot(TASK, UID, slot),
    slot,
    version: 1,
    receivedAt: slot + 5,
    startedAt: slot + 10,
    finished: true,
    worker: 'w1@localhost',
    workerKilledAt: null,
    ...overrides,
  };
}

const state = (cursor: number, total: number, more: Partial<StoredRunState> = {}): StoredRunState => ({
  uid: UID,
  cursor,
  total,
  missed: 0,
  unknown: 0,
  paused: 0,
  publishing: false,
  ...more,
});

/** A task every second run for `seconds` slots, sampled after each one: the history a correct operator makes. */
function cleanHistory(seconds = 10): History {
  const samples: RunSample[] = [{ at: T0 + 1, task: TASK, state: state(T0, 0) }];
  const executions: Execution[] = [];
  for (let k = 1; k <= seconds; k++) {
    const slot = T0 + k * SEC;
    executions.push(execution(slot));
    samples.push({ at: slot + 50, task: TASK, state: state(slot, k) });
  }
  return {
    seed: 42,
    incarnations: [incarnation()],
    samples,
    executions,
    faults: [],
    finalStatus: [
      {
        task: TASK,
        uid: UID,
        generation: 1,
        observedGeneration: 1,
        readyReason: 'Scheduled',
        expectedReason: 'Scheduled',
        totalRunCount: seconds,
        missedRunCount: 0,
        unknownRunCount: 0,
        pausedRunCount: 0,
        lastRunAt: T0 + seconds * SEC,
      },
    ],
    statusBoundMs: 30_000,
    editGraceMs: 3000,
  };
}

const classesOf = (history: History): ForbiddenClass[] =>
  buildLedger(history)
    .findings.map((f) => f.class)
    .sort();

/** Replaces the sample taken after slot k (1-based) and every later one by `change` of it. */
function changeSamplesFrom(
  history: History,
  k: number,
  change: (s: StoredRunState) => StoredRunState | null,
): void {
  history.samples = history.samples.map((s, i) =>
    i < k || s.state === null ? s : { ...s, state: change(s.state) },
  );
}

test('a clean history: every slot run once, nothing forbidden', () => {
  const ledger = buildLedger(cleanHistory(10));
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.slotsChecked, 10);
  assert.equal(ledger.table.get('none')?.get('run once'), 10);
});

test("an hour's samples, more than a call takes as arguments, build a ledger", () => {
  const history = cleanHistory();
  const other = Array.from({ length: 300_000 }, (_, i) => ({ at: T0 + i, task: 'soak/gone', state: null }));
  history.samples = [...history.samples, ...other];
  assert.deepEqual(buildLedger(history).findings, []);
});

test('a slot started twice is run twice', () => {
  const history = cleanHistory();
  history.executions.push(execution(T0 + 3 * SEC, { startedAt: T0 + 3 * SEC + 900 }));
  assert.deepEqual(classesOf(history), ['run twice']);
});

test('a run started again after its worker was killed is the broker’s redelivery, when a worker-kill explains it', () => {
  const history = cleanHistory();
  // The first worker finished the body but was killed before its ack reached the broker.
  history.executions = history.executions.map((e) =>
    e.slot === T0 + 3 * SEC ? { ...e, workerKilledAt: T0 + 3 * SEC + 200 } : e,
  );
  history.executions.push(execution(T0 + 3 * SEC, { startedAt: T0 + 3 * SEC + 400, worker: 'w2@localhost' }));
  assert.deepEqual(classesOf(history), ['run twice']);
  history.faults.push({
    type: 'worker-kill',
    start: T0 + 3 * SEC + 100,
    end: T0 + 3 * SEC + 300,
    detail: '',
  });
  const ledger = buildLedger(history);
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.table.get('worker-kill')?.get('redelivered after its worker died'), 1);
  // Started again before the first worker was killed: two deliveries, not a redelivery.
  history.executions = history.executions.map((e) =>
    e.worker === 'w2@localhost' ? { ...e, startedAt: T0 + 3 * SEC + 150 } : e,
  );
  assert.deepEqual(classesOf(history), ['run twice']);
});

test('a run the counters never recorded is run but not counted', () => {
  const history = cleanHistory();
  // The cursor moved over slot 4 and nothing counted it, though the worker ran it.
  changeSamplesFrom(history, 4, (s) => ({ ...s, total: s.total - 1 }));
  assert.deepEqual(classesOf(history), [
    'lost without being counted',
    'run but not counted',
    'status not converged',
  ]);
});

test('a slot counted as missed that did not run is allowed; one counted as run that did not is not', () => {
  const missed = cleanHistory();
  missed.executions = missed.executions.filter((e) => e.slot !== T0 + 4 * SEC);
  changeSamplesFrom(missed, 4, (s) => ({ ...s, total: s.total - 1, missed: 1 }));
  missed.finalStatus[0]!.totalRunCount -= 1;
  missed.finalStatus[0]!.missedRunCount = 1;
  assert.deepEqual(classesOf(missed), []);
  assert.equal(buildLedger(missed).table.get('none')?.get('counted missed'), 1);

  const neverRan = cleanHistory(40);
  neverRan.executions = neverRan.executions.filter((e) => e.slot !== T0 + 4 * SEC);
  assert.deepEqual(classesOf(neverRan), ['counted as run, never ran']);
  // Found over the whole chain, and placed at the step where it arose.
  neverRan.faults.push({ type: 'broker-restart', start: T0 + 4 * SEC, end: T0 + 4 * SEC + 100, detail: '' });
  assert.equal(buildLedger(neverRan).findings[0]!.fault, 'broker-restart');
});

test('an unknown outcome is counted whether or not the run reached a worker', () => {
  const history = cleanHistory();
  // Slot 4 was claimed (publishing) at one sample, then settled as unknown; a worker ran it anyway.
  history.samples[4] = { ...history.samples[4]!, state: state(T0 + 4 * SEC, 3, { publishing: true }) };
  changeSamplesFrom(history, 5, (s) => ({ ...s, total: s.total - 1, unknown: 1 }));
  history.finalStatus[0]!.totalRunCount -= 1;
  history.finalStatus[0]!.unknownRunCount = 1;
  const ledger = buildLedger(history);
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.table.get('none')?.get('unknown outcome'), 1);
  // It reached a worker: a run of unknown outcome is in both columns.
  assert.equal(ledger.table.get('none')?.get('run once'), 10);
});

test('a cursor that passes slots without counting them loses them', () => {
  const history = cleanHistory();
  history.executions = history.executions.filter((e) => e.slot !== T0 + 4 * SEC && e.slot !== T0 + 5 * SEC);
  changeSamplesFrom(history, 4, (s) => ({ ...s, total: s.total - (s.cursor >= T0 + 5 * SEC ? 2 : 1) }));
  history.finalStatus[0]!.totalRunCount -= 2;
  const ledger = buildLedger(history);
  assert.deepEqual(
    ledger.findings.map((f) => f.class),
    ['lost without being counted', 'lost without being counted'],
  );
  assert.match(ledger.findings[0]!.detail, /12:00:03.000Z\.\.2026-12-07T12:00:04.000Z/);
});

test('run state that Redis lost is the store’s loss only when a fault explains it', () => {
  const history = cleanHistory();
  // After slot 5 the key is gone; it comes back recovered from a status that showed 3 runs, cursor at slot 7.
  history.samples.splice(6, 0, { at: T0 + 5 * SEC + 500, task: TASK, state: null });
  history.executions = history.executions.filter((e) => e.slot !== T0 + 6 * SEC && e.slot !== T0 + 7 * SEC);
  history.samples = history.samples.map((s) =>
    s.state && s.state.cursor >= T0 + 6 * SEC
      ? { ...s, state: { ...s.state, total: s.state.cursor === T0 + 6 * SEC ? 3 : s.state.total - 4 } }
      : s,
  );
  history.samples = history.samples.filter((s) => s.state?.cursor !== T0 + 6 * SEC);
  history.finalStatus[0]!.totalRunCount = 6;
  assert.deepEqual(classesOf(history), ['lost without being counted']);
  history.faults.push({
    type: 'redis-restart-empty',
    start: T0 + 5 * SEC + 200,
    end: T0 + 5 * SEC + 400,
    detail: '',
  });
  const ledger = buildLedger(history);
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.table.get('redis-restart-empty')?.get('lost with the store'), 2);
});

test('runs while deleted, paused or disabled are forbidden; the one catch-up after re-enabling is not', () => {
  const paused = cleanHistory();
  paused.incarnations[0]!.stops.push({ kind: 'paused', from: T0 + 2 * SEC, to: T0 + 8 * SEC });
  assert.deepEqual(classesOf(paused), ['run while paused', 'run while paused']);

  const deleted = cleanHistory();
  deleted.incarnations[0]!.deletedAt = T0 + 5 * SEC;
  assert.deepEqual(classesOf(deleted), ['run while deleted', 'run while deleted']);

  const disabled = cleanHistory();
  disabled.incarnations[0]!.stops.push({ kind: 'disabled', from: T0 + 2 * SEC, to: T0 + 9 * SEC });
  // Slots 6 and 7 are missed while disabled; re-enabled at 9, slot 8 runs once as the catch-up.
  disabled.executions = disabled.executions.filter((e) => ![6, 7, 8].some((k) => e.slot === T0 + k * SEC));
  disabled.executions.push(execution(T0 + 8 * SEC, { startedAt: T0 + 9 * SEC + 20 }));
  disabled.samples = disabled.samples.map((s, k) => {
    if (k === 6 || k === 7) return { ...s, state: state(T0 + 5 * SEC, 5) };
    if (k >= 8) return { ...s, state: state(T0 + k * SEC, k - 2, { missed: 2 }) };
    return s;
  });
  disabled.finalStatus[0]!.totalRunCount -= 2;
  disabled.finalStatus[0]!.missedRunCount = 2;
  assert.deepEqual(classesOf(disabled), []);
});

test('a deleted task’s last run, which no sample saw counted before the key went, is not a run nobody counted', () => {
  const history = cleanHistory();
  history.incarnations[0]!.deletedAt = T0 + 10 * SEC + 100;
  history.samples = history.samples.slice(0, -1);
  history.samples.push({ at: T0 + 10 * SEC + 200, task: TASK, state: null });
  history.finalStatus = [];
  assert.deepEqual(classesOf(history), []);
});

test('a slot well after an edit that still runs the old definition is found', () => {
  const history = cleanHistory();
  history.incarnations[0]!.versions.push({ at: T0 + 3 * SEC, version: 2 });
  history.executions = history.executions.map((e) => (e.slot >= T0 + 5 * SEC ? { ...e, version: 2 } : e));
  assert.deepEqual(classesOf(history), []);
  history.executions = history.executions.map((e) => (e.slot === T0 + 9 * SEC ? { ...e, version: 1 } : e));
  assert.deepEqual(classesOf(history), ['ran an old definition']);
});

test('a run whose task id is no incarnation’s, and a status that differs from Redis, are found', () => {
  const history = cleanHistory();
  history.executions.push(execution(T0 + 3 * SEC, { taskId: 'not-a-slot-id' }));
  history.finalStatus[0]!.observedGeneration = 0;
  history.finalStatus[0]!.missedRunCount = 1;
  const ledger = buildLedger(history);
  assert.deepEqual(
    ledger.findings.map((f) => f.class),
    ['run of no task', 'status not converged'],
  );
  assert.match(ledger.findings[1]!.detail, /observedGeneration 0 of generation 1; missedRunCount 1, Redis 0/);
});

test('slots are attributed to the fault around them, and the report names the seed', () => {
  const history = cleanHistory();
  history.faults.push({ type: 'leader-sigkill', start: T0 + 20 * SEC, end: T0 + 21 * SEC, detail: '' });
  history.executions.push(execution(T0 + 3 * SEC, { startedAt: T0 + 4 * SEC }));
  assert.equal(faultAt(history.faults, T0 + 18 * SEC + 1), 'leader-sigkill');
  assert.equal(faultAt(history.faults, T0 + 17 * SEC), 'none');
  const text = formatLedger(buildLedger(history), 'npm run soak -- --seed 42');
  assert.match(text, /soak seed 42: 10 slots checked/);
  assert.match(text, /\| none \| 10 \| 1 \|/);
  assert.match(
    text,
    /run twice: soak\/t1 2026-12-07T12:00:03.000Z started 2 times \(0 never finished\): w1@localhost received .*\[fault: none\]/,
  );
  assert.match(text, /replay: npm run soak -- --seed 42/);
});

test('slots between two cursors: an interval grid, every minute, one clocked instant', () => {
  assert.equal(slotsBetween({ kind: 'interval', everyMs: 2000 }, T0, T0 + 6000), 3);
  // A resume moved the cursor off the grid: the slots before it and the one after count once each.
  assert.equal(slotsBetween({ kind: 'interval', everyMs: 2000 }, T0, T0 + 4500 + 2000), 3);
  assert.equal(slotsBetween({ kind: 'minutely' }, T0 + 59_000, T0 + 60_000), 1);
  assert.equal(slotsBetween({ kind: 'minutely' }, T0, T0 + 59_999), 0);
  assert.equal(slotsBetween({ kind: 'clocked', at: T0 + 5 }, T0, T0 + 5), 1);
  assert.equal(slotsBetween({ kind: 'clocked', at: T0 + 5 }, T0 + 5, T0 + 50), 0);
});

/** A run-now of the task asked for at `at`, and the execution it makes (started a second later). */
function runNow(token: string, at: number): { request: RunNow; run: Execution } {
  const taskId = projectUuid(`${TASK}/${UID}/run-now/${token}`);
  return {
    request: { task: TASK, uid: UID, token, taskId, at },
    run: execution(at + 500, { taskId, startedAt: at + 1000 }),
  };
}

test('a run-now runs once under its own task id, beside the slots; twice is found', () => {
  const history = cleanHistory();
  const once = runNow('a', T0 + 3500);
  history.runNows = [once.request];
  history.executions.push(once.run);
  const ledger = buildLedger(history);
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.table.get('none')?.get('run-now run once'), 1);
  assert.equal(ledger.table.get('none')?.get('run once'), 10, 'the slots are accounted as before');
  history.executions.push({ ...once.run, startedAt: once.run.startedAt + 2000, worker: 'w2@localhost' });
  assert.deepEqual(classesOf(history), ['run twice']);
});

test('a run-now that never ran is lost, unless a newer one replaced it, the task was disabled or deleted, or it was counted as unknown', () => {
  const lost = cleanHistory();
  lost.runNows = [runNow('a', T0 + 3500).request];
  assert.deepEqual(classesOf(lost), ['lost without being counted']);

  const replaced = cleanHistory();
  const newer = runNow('b', T0 + 4500);
  replaced.runNows = [runNow('a', T0 + 3500).request, newer.request];
  replaced.executions.push(newer.run);
  assert.deepEqual(classesOf(replaced), []);
  assert.equal(buildLedger(replaced).table.get('none')?.get('run-now superseded or withdrawn'), 1);

  const disabled = cleanHistory();
  disabled.runNows = [runNow('a', T0 + 3500).request];
  disabled.incarnations[0]!.stops = [{ kind: 'disabled', from: T0 + 4000, to: null }];
  disabled.executions = disabled.executions.filter((e) => e.slot < T0 + 4000);
  disabled.samples = disabled.samples.filter((s) => s.at < T0 + 4000);
  disabled.finalStatus = [];
  assert.deepEqual(classesOf(disabled), []);

  // Its publish had an unknown outcome: unknownRunCount grew by one with no slot to explain it.
  const unknown = cleanHistory();
  unknown.runNows = [runNow('a', T0 + 3500).request];
  changeSamplesFrom(unknown, 4, (s) => ({ ...s, unknown: 1 }));
  unknown.finalStatus[0]!.unknownRunCount = 1;
  const ledger = buildLedger(unknown);
  assert.deepEqual(ledger.findings, []);
  assert.equal(ledger.table.get('none')?.get('unknown outcome'), 1);
  // Without a run-now to explain it, the same counter is one more than the slots.
  unknown.runNows = [];
  assert.deepEqual(classesOf(unknown), ['counted more than its slots']);
});
