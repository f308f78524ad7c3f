// Times in the years 1-99 (a `celerybeat.io/last-run-at` of 0001-01-01, a clocked time in the year 50) through a
// private real Redis and the real Lua scripts: the run state read back is the one written, so the beat's
// expected tail is the stored one and each claim succeeds once, instead of conflicting without end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { AtomicRedisDispatcher } from '../../../src/beat/slot-dispatcher.ts';
import {
  encodeRedisEnvelope,
  redisRouteFor,
  resolveRedisRoutes,
} from '../../../src/celery/redis-transport.ts';
import type { Broker, RunState, UpsertResult } from '../../../src/contracts.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { dispatchesTotal } from '../../../src/observe/metrics.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { initialCursor } from '../../../src/schedule/cursor.ts';
import { decodeTaskValue } from '../../../src/store/task-record.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';
import { runState } from '../../support/fakes/definitions.ts';
import { waitUntil } from '../../support/ports.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const BROKER_DB = 3;
const YEAR_1 = new Date(0).setUTCFullYear(1, 0, 1);
const YEAR_50 = new Date(0).setUTCFullYear(50, 2, 1);

const local = usePrivateRedis(BROKER_DB);

let counter = 0;

function validTask(spec: Record<string, unknown>, annotations?: Record<string, string>): TaskDefinition {
  counter += 1;
  const result = validatePeriodicTask(
    {
      apiVersion: 'celerybeat.io/v1alpha1',
      kind: 'PeriodicTask',
      metadata: { name: `old-${counter}`, namespace: 'ns', uid: `uid-${counter}`, annotations },
      spec: { task: 'tasks.add', options: { queue: `q${counter}` }, ...spec },
    },
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(result.ok, JSON.stringify(result));
  return result.definition;
}

const storeFor = (): RedisTaskStore =>
  new RedisTaskStore(local.redis, { keyPrefix: `century${counter}:`, brokerDb: BROKER_DB });

const keyOf = (def: TaskDefinition): string => `${def.namespace}/${def.name}`;

function stateOf(result: UpsertResult): RunState {
  if (result.status === 'foreign') assert.fail('the key is the task own');
  return result.state;
}

test('a last-run-at of 0001-01-01 is read back as the year 1, and claims from it succeed once each', async () => {
  const def = validTask(
    { interval: { every: 1, period: 'seconds' } },
    { 'celerybeat.io/last-run-at': '0001-01-01T00:00:00Z', 'celerybeat.io/total-run-count': '7' },
  );
  assert.deepEqual(def.carriedOver, { lastRunAt: YEAR_1, totalRunCount: 7 });
  const store = storeFor();
  const carried = runState(YEAR_1, { totalRunCount: 7 });
  assert.equal((await store.upsert(def, carried)).status, 'created');
  // A second reconcile (a resync, a restart) reads the run state back from Redis.
  const reread = await store.upsert(def, carried);
  assert.deepEqual(reread, { status: 'unchanged', state: carried });
  const stored = decodeTaskValue((await local.redis.get(store.redisKey(keyOf(def))))!);
  assert.equal(stored.runState?.cursor, YEAR_1);
  assert.equal(JSON.parse((await local.redis.get(store.redisKey(keyOf(def))))!).last_run_at.year, 1);

  const first: RunState = { ...carried, cursor: Date.now(), totalRunCount: 8, lastTaskId: 'a' };
  assert.deepEqual(await store.dispatch([{ taskKey: keyOf(def), expected: stateOf(reread), next: first }]), [
    { status: 'ok' },
  ]);
  const second: RunState = { ...first, cursor: first.cursor + 1000, totalRunCount: 9, lastTaskId: 'b' };
  assert.deepEqual(await store.dispatch([{ taskKey: keyOf(def), expected: first, next: second }]), [
    { status: 'ok' },
  ]);
});

test('a clocked time in the year 50 is claimed once, and read back as the year 50', async () => {
  const def = validTask({ clocked: '0050-03-01T00:00:00Z' });
  assert.deepEqual(def.schedule, { kind: 'clocked', at: YEAR_50 });
  const store = storeFor();
  const initial = runState(initialCursor(def, Date.now()));
  assert.equal(initial.cursor, YEAR_50 - 1);
  await store.upsert(def, initial);
  const reread = await store.upsert(def, initial);
  assert.deepEqual(stateOf(reread), initial);
  const ran = runState(YEAR_50, { totalRunCount: 1, lastTaskId: 'c', lastTaskSlot: YEAR_50 });
  assert.deepEqual(await store.dispatch([{ taskKey: keyOf(def), expected: initial, next: ran }]), [
    { status: 'ok' },
  ]);
  const again = await store.upsert(def, initial);
  assert.deepEqual(stateOf(again), ran);
  const value = JSON.parse((await local.redis.get(store.redisKey(keyOf(def))))!);
  assert.equal(value.clocked.year, 50);
  assert.equal(value.last_task_slot.year, 50);
});

async function duplicates(): Promise<number> {
  return (await dispatchesTotal.get()).values.find((v) => v.labels.result === 'duplicate')?.value ?? 0;
}

test('the beat runs a task carried over from the year 1 once per slot, without a conflict', async () => {
  const def = validTask(
    { interval: { every: 1, period: 'seconds' } },
    { 'celerybeat.io/last-run-at': '0001-01-01T00:00:00Z', 'celerybeat.io/total-run-count': '7' },
  );
  const store = storeFor();
  const carried = runState(YEAR_1, { totalRunCount: 7 });
  await store.upsert(def, carried);
  const state = stateOf(await store.upsert(def, carried));
  const unusedBroker: Broker = {
    url: 'memory://',
    publish: async () => {
      throw new Error('every message goes out atomically on the store Redis');
    },
    revoke: async () => {},
    close: async () => {},
  };
  const dispatcher = new AtomicRedisDispatcher(
    store,
    {
      listKeys: (options) => resolveRedisRoutes(local.broker, options),
      envelope: (message, options) => encodeRedisEnvelope(message, redisRouteFor(options)),
    },
    unusedBroker,
  );
  const recorded: RunState[] = [];
  const beat = new Beat({
    dispatcher,
    listener: {
      recorded: (_def, next) => recorded.push(next),
      rejected: (_def, reason) => assert.fail(`rejected: ${reason}`),
      fenced: () => assert.fail('fenced'),
    },
    logger: createLogger('silent'),
  });
  const duplicatesBefore = await duplicates();
  beat.set(keyOf(def), { def, schedule: compileSchedule(def.schedule, def.timeZone), state });
  beat.start();
  try {
    await waitUntil('two runs recorded', () => recorded.length >= 2, 10_000);
  } finally {
    await beat.stop();
  }
  assert.equal(await duplicates(), duplicatesBefore, 'no claim conflicted');
  // The first run accounts for every slot since the year 1: one sent, the rest missed.
  assert.equal(recorded[0]!.totalRunCount, 8);
  assert.ok(recorded[0]!.missedRunCount > 60_000_000_000, String(recorded[0]!.missedRunCount));
  const messages = await local.broker.lrange(def.options.queue, 0, -1);
  assert.equal(messages.length, recorded.length);
  const stored = decodeTaskValue((await local.redis.get(store.redisKey(keyOf(def))))!);
  assert.deepEqual(stored.runState, recorded.at(-1));
});
