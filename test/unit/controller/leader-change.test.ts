// A leader change as the run state sees it: two reconciler-and-beat pairs (the old leader and the new one) on
// one store, under a simulated clock. The run state is in the store (pausedRunCount included), so a new leader
// whose status is stale carries on from it; when the store lost the keys too, the new leader recovers from the
// stale status by the one recovery path, which is logged and counted and never moves a cursor or a count back.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { PeriodicTask, PeriodicTaskStatus } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { StatusProjection } from '../../../src/controller/status-projection.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { periodicTask } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';
import { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

const START = Date.UTC(2030, 0, 1);
let clock: SimulatedClock | undefined;

afterEach(() => clock?.reset());

/** One replica's leader work on the shared store: its own beat, reconciler, status and log. */
function replica(store: MemoryTaskStore, at: SimulatedClock) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const dispatcher = new ScriptedDispatcher({ store, clock: at.now });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher,
    listener: new StatusProjection(status).beatListener(events, () => {}),
    logger,
    clock: at.now,
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: at.now,
  });
  return { beat, reconciler, status, dispatcher, lines };
}

/** The object as a new leader's cache holds it: its status as last written, however late that is. */
function withStatus(object: PeriodicTask, status: PeriodicTaskStatus): PeriodicTask {
  return { ...object, status };
}

async function recoveries(): Promise<number> {
  const metric = await registry.getSingleMetric('celerybeat_run_state_recoveries_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

const iso = (ms: number): string => new Date(ms).toISOString();

test('Redis lost the keys and the leader changed: the stale status is recovered from once, logged and counted, and nothing runs again or counts back', async () => {
  clock = simulatedClock(START);
  const store = new MemoryTaskStore();
  const task = periodicTask('every-second');
  const key = 'ns/every-second';

  const old = replica(store, clock);
  await old.reconciler.reconcile([task]);
  old.beat.start();
  await clock.advanceUntil('five runs', () => store.stateOf(key)?.totalRunCount === 5, 10_000);
  await old.beat.stop();
  const ran = old.dispatcher.publishedSlots(key);
  assert.deepEqual(
    ran,
    [1, 2, 3, 4, 5].map((i) => START + i * 1000),
  );

  // The status the new leader reads lags: it shows three runs of the five, and one missed slot.
  const stale: PeriodicTaskStatus = {
    lastRunAt: iso(START + 3000),
    totalRunCount: 3,
    missedRunCount: 1,
    lastTaskId: 'id-of-the-third-run',
  };
  store.keys.clear();
  const recoveredBefore = await recoveries();
  await clock.advance(400);

  const next = replica(store, clock);
  await next.reconciler.reconcile([withStatus(task, stale)]);
  const recovered = store.stateOf(key);
  assert.equal(
    recovered?.cursor,
    START + 5400,
    'the cursor starts at the recovery, not at the stale last run',
  );
  assert.equal(recovered?.totalRunCount, 3, 'the counts start from the status, never below it');
  assert.equal(recovered?.missedRunCount, 1);
  assert.equal((await recoveries()) - recoveredBefore, 1, 'the recovery is counted');
  const line = next.lines.find((l) => String(l.msg).includes('run state recovered from the status'));
  assert.ok(line, 'the recovery is logged');
  assert.equal(line.lastRunAt, stale.lastRunAt);
  assert.equal(line.resumesAt, iso(START + 5400));

  next.beat.start();
  await clock.advanceUntil('two more runs', () => store.stateOf(key)?.totalRunCount === 5, 10_000);
  await next.beat.stop();
  const again = next.dispatcher.publishedSlots(key);
  // An interval runs one interval after its cursor, as Celery reads last_run_at.
  assert.deepEqual(again, [START + 6400, START + 7400], 'no slot the old leader ran is run again');
  const counts = next.status.reports.map((r) => r.update.totalRunCount).filter((n) => n !== undefined);
  assert.ok(
    counts.every((n, i) => n >= 3 && (i === 0 || n >= counts[i - 1]!)),
    `the status counts never go back: ${counts}`,
  );

  // A second pass finds the key: no second recovery.
  await next.reconciler.reconcile([withStatus(task, stale)], true);
  assert.equal((await recoveries()) - recoveredBefore, 1, 'recovered once');
});

test('pausedRunCount survives a leader change while the status is stale: it is in the stored run state', async () => {
  clock = simulatedClock(START);
  const store = new MemoryTaskStore();
  const paused = periodicTask('paused', { pause: { reason: 'migration' } });
  const key = 'ns/paused';

  const old = replica(store, clock);
  await old.reconciler.reconcile([paused]);
  old.beat.start();
  await clock.advance(3500);
  const { pause: _, ...spec } = paused.spec;
  const resumed: PeriodicTask = { ...paused, metadata: { ...paused.metadata, generation: 2 }, spec };
  await old.reconciler.reconcile([resumed]);
  await clock.advanceUntil('one run after the resume', () => store.stateOf(key)?.totalRunCount === 1, 5000);
  await old.beat.stop();
  assert.equal(store.stateOf(key)?.pausedRunCount, 3, 'the slots of the pause are in the stored run state');
  assert.equal(old.status.merged('ns', 'paused').pausedRunCount, 3);

  // The new leader's cache still holds the status from before the resume: no pausedRunCount in it.
  const next = replica(store, clock);
  await next.reconciler.reconcile([withStatus(resumed, { totalRunCount: 0 })]);
  assert.equal(next.status.merged('ns', 'paused').pausedRunCount, 3, 'reported from the run state');
  next.beat.start();
  await clock.advanceUntil('the next run', () => store.stateOf(key)?.totalRunCount === 2, 5000);
  await next.beat.stop();
  assert.equal(store.stateOf(key)?.pausedRunCount, 3, 'kept by the new leader’s runs');
  assert.equal(next.status.reports.at(-1)?.update.pausedRunCount, 3);
  assert.equal(store.stateOf(key)?.missedRunCount, 0, 'the pause was not counted as missed');
});

test('a key that lost only its run state is recovered the same way, once', async () => {
  clock = simulatedClock(START);
  const store = new MemoryTaskStore();
  const task = periodicTask('tail-lost');
  const key = 'ns/tail-lost';
  const old = replica(store, clock);
  await old.reconciler.reconcile([task]);
  old.beat.start();
  await clock.advanceUntil('two runs', () => store.stateOf(key)?.totalRunCount === 2, 10_000);
  await old.beat.stop();
  store.corrupt(key);
  const recoveredBefore = await recoveries();

  const next = replica(store, clock);
  const stale = { lastRunAt: iso(START + 1000), totalRunCount: 1 };
  await next.reconciler.reconcile([withStatus(task, stale)]);
  assert.equal(store.stateOf(key)?.totalRunCount, 1, 'from the status');
  assert.equal(store.stateOf(key)?.cursor, clock.now(), 'from the recovery on');
  assert.equal((await recoveries()) - recoveredBefore, 1);
  await next.reconciler.reconcile([withStatus(task, stale)], true);
  assert.equal((await recoveries()) - recoveredBefore, 1, 'recovered once');
});
