// A leader change on a real Redis: two reconciler-and-beat pairs (the old leader, then the new one) on one
// RedisTaskStore, its Lua scripts and the run-state tail as text. pausedRunCount is in that tail, so a new
// leader whose status is stale shows it; when Redis lost the keys, the new leader recovers from the stale status
// by the one recovery path (logged, counted), and no slot the old leader ran runs again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTask, PeriodicTaskStatus } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { StatusProjection } from '../../../src/controller/status-projection.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { decodeTaskValue } from '../../../src/store/task-record.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { periodicTask } from '../../support/fakes/definitions.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';
import { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';
import { waitUntil } from '../../support/ports.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis();

/** One replica's leader work on the store: its beat (dispatching through the store's scripts), reconciler, status, log. */
function replica(store: RedisTaskStore) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const dispatcher = new ScriptedDispatcher({ store });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher,
    listener: new StatusProjection(status).beatListener(events, () => {}),
    logger,
  });
  const reconciler = new Reconciler({ store, beat, status, events, logger, defaultTimeZone: 'UTC' });
  return { beat, reconciler, status, dispatcher, lines };
}

async function stored(store: RedisTaskStore, key: string) {
  const raw = await local.redis.get(store.redisKey(key));
  return { raw, state: raw === null ? null : decodeTaskValue(raw).runState };
}

async function recoveries(): Promise<number> {
  const metric = await registry.getSingleMetric('celerybeat_run_state_recoveries_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

const withStatus = (object: PeriodicTask, status: PeriodicTaskStatus): PeriodicTask => ({
  ...object,
  status,
});

test('pausedRunCount is in the run-state tail and survives a leader change while the status is stale', async () => {
  const store = new RedisTaskStore(local.redis, { keyPrefix: 'paused:' });
  // A pause that ends by itself: the beat counts its slots as paused when it ends.
  const until = new Date(Date.now() + 2500).toISOString();
  const paused = periodicTask('paused', { pause: { reason: 'migration', until } });
  const key = 'ns/paused';
  const old = replica(store);
  await old.reconciler.reconcile([paused]);
  old.beat.start();
  await waitUntil(
    'a run after the pause',
    async () => (await stored(store, key)).state?.totalRunCount === 1,
    6000,
  );
  await old.beat.stop();
  const before = await stored(store, key);
  const count = before.state?.pausedRunCount ?? 0;
  assert.ok(count >= 2, `the slots of the pause counted: ${count}`);
  assert.match(before.raw ?? '', new RegExp(`,"missed_run_count":0,"paused_run_count":${count}}$`));

  // The new leader's cache holds the status from before the pause ended: no pausedRunCount in it.
  const next = replica(store);
  await next.reconciler.reconcile([withStatus(paused, { totalRunCount: 0 })]);
  assert.equal(next.status.merged('ns', 'paused').pausedRunCount, count, 'shown from the run state');
  next.beat.start();
  await waitUntil('the next run', async () => (await stored(store, key)).state?.totalRunCount === 2, 5000);
  await next.beat.stop();
  assert.equal((await stored(store, key)).state?.pausedRunCount, count, 'kept by the new leader’s runs');
  assert.equal(next.status.reports.at(-1)?.update.pausedRunCount, count);
});

test('Redis lost the keys and the leader changed: recovered once from the stale status, logged and counted; nothing runs again', async () => {
  const store = new RedisTaskStore(local.redis, { keyPrefix: 'lost:' });
  const task = periodicTask('every-second');
  const key = 'ns/every-second';
  const old = replica(store);
  await old.reconciler.reconcile([task]);
  old.beat.start();
  await waitUntil('three runs', async () => (await stored(store, key)).state?.totalRunCount === 3, 6000);
  await old.beat.stop();
  const ran = old.dispatcher.publishedSlots(key);
  const lastRun = ran.at(-1)!;
  // The status the new leader reads lags: one run of the three.
  const stale: PeriodicTaskStatus = {
    lastRunAt: new Date(ran[0]!).toISOString(),
    totalRunCount: 1,
    missedRunCount: 2,
  };
  await local.redis.flushdb();
  const recoveredBefore = await recoveries();

  const next = replica(store);
  await next.reconciler.reconcile([withStatus(task, stale)]);
  const recovered = (await stored(store, key)).state;
  assert.equal(recovered?.totalRunCount, 1, 'the counts start from the status, never below it');
  assert.equal(recovered?.missedRunCount, 2);
  assert.ok((recovered?.cursor ?? 0) >= lastRun, 'the cursor is not before a slot the old leader ran');
  assert.equal((await recoveries()) - recoveredBefore, 1, 'counted');
  assert.ok(
    next.lines.some((l) => String(l.msg).includes('run state recovered from the status')),
    'logged',
  );
  next.beat.start();
  await waitUntil('two more runs', async () => (await stored(store, key)).state?.totalRunCount === 3, 6000);
  await next.beat.stop();
  const again = next.dispatcher.publishedSlots(key);
  assert.ok(
    again.every((slot) => slot > lastRun),
    `no slot the old leader ran is run again: ${again} after ${lastRun}`,
  );
  const counts = next.status.reports.flatMap((r) => r.update.totalRunCount ?? []);
  assert.ok(
    counts.every((n, i) => n >= 1 && (i === 0 || n >= counts[i - 1]!)),
    `the status counts never go back: ${counts}`,
  );
});
