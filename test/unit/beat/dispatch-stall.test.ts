// What a whole-batch dispatch failure shows, under a simulated clock: the tasks' Ready reason, the metric,
// and the /healthz stall rule (stuck while Redis answers: fail; Redis down or nothing due: pass).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { StoreUnavailableError } from '../../../src/beat/dispatch-failure.ts';
import {
  type DispatchStallCheckOptions,
  dispatchStallCheck,
} from '../../../src/beat/dispatch-stall-check.ts';
import { dispatchesTotal } from '../../../src/observe/metrics.ts';
import { beatRig } from '../../support/fakes/beat-rig.ts';
import { definition } from '../../support/fakes/definitions.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock;

beforeEach(() => {
  clock = simulatedClock();
});

afterEach(() => clock.reset());

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

function rig() {
  const {
    beat,
    dispatcher,
    listener,
    add: addTask,
  } = beatRig(clock, {
    // Whole batches retried every second: the stall rule, not the backoff, is under test here.
    retryBackoff: { initialMs: 1000, maxMs: 1000 },
  });
  const add = (name: string): string => addTask(definition(name));
  /** The next `count` dispatch calls fail as a whole with `error`. */
  const failNext = (count: number, error: Error): void => {
    for (let i = 0; i < count; i += 1) dispatcher.throwNext(error);
  };
  /** Its /healthz stall check: leading, Redis answering, a 10 s timeout, unless `options` say otherwise. */
  const stallCheck = (options: Partial<DispatchStallCheckOptions> = {}) =>
    dispatchStallCheck({
      stall: () => beat.stall(),
      leading: () => true,
      ping: async () => 'PONG',
      timeoutMs: 10_000,
      clock: clock.now,
      ...options,
    });
  return { beat, dispatcher, listener, add, failNext, stallCheck };
}

async function storeUnavailableCount(): Promise<number> {
  const { values } = await dispatchesTotal.get();
  return values.find((v) => v.labels.result === 'store_unavailable')?.value ?? 0;
}

test('a store failure of the whole batch: Ready StoreUnavailable quoting Redis, once per task, counted; a recorded slot clears it', async () => {
  const { beat, dispatcher, listener, add, failNext } = rig();
  const a = add('a');
  const b = add('b');
  const counted = await storeUnavailableCount();
  failNext(5, new StoreUnavailableError(new Error(OOM)));
  beat.start();
  await clock.advance(5500, 100);
  assert.equal(dispatcher.published.length, 0);
  assert.deepEqual(
    listener.log.rejected.map((r) => [r.key, r.problem, r.reason]),
    [
      [a, 'StoreUnavailable', `Redis: ${OOM}`],
      [b, 'StoreUnavailable', `Redis: ${OOM}`],
    ],
    'each task once, not once per retry',
  );
  assert.equal((await storeUnavailableCount()) - counted, 10, 'five failed batches of two slots');
  await clock.advance(1000, 100);
  assert.ok(dispatcher.publishedSlots(a).length > 0, 'the slot goes out once Redis takes it');
  assert.ok(
    listener.log.recorded.some((r) => r.key === a),
    'recorded: Ready True again',
  );
  failNext(1, new StoreUnavailableError(new Error(OOM)));
  await clock.advance(1000, 100);
  assert.equal(listener.log.rejected.filter((r) => r.key === a).length, 2, 'the same failure later is new');
  await beat.stop();
});

test('a batch that fails for another reason is a DispatchError naming it', async () => {
  const { beat, listener, add, failNext } = rig();
  const a = add('a');
  failNext(1, new Error('a dispatcher defect'));
  beat.start();
  await clock.advance(1000, 100);
  assert.deepEqual(listener.log.rejected, [
    { key: a, problem: 'DispatchError', reason: 'dispatch failed: a dispatcher defect' },
  ]);
  await beat.stop();
});

test('/healthz stall rule: fails only when due slots wait past the timeout while leading and Redis answers', async () => {
  const { beat, add, failNext, stallCheck } = rig();
  let leading = true;
  let redisAnswers = true;
  const check = stallCheck({
    leading: () => leading,
    ping: async () => {
      if (!redisAnswers) throw new Error('Connection is closed.');
    },
  });
  add('a');
  beat.start();
  await clock.advance(3000, 100);
  assert.equal(await check(), true, 'dispatching normally');

  failNext(100, new StoreUnavailableError(new Error(OOM)));
  await clock.advance(9000, 100);
  assert.equal(await check(), true, 'failing, but not for longer than the timeout');
  await clock.advance(2000, 100);
  const verdict = await check();
  assert.equal(typeof verdict, 'string');
  assert.match(String(verdict), /not been dispatched for 1\d s while Redis answers PING/);
  assert.match(String(verdict), /OOM/);

  redisAnswers = false;
  assert.equal(await check(), true, 'Redis unreachable: a restart would not help');
  redisAnswers = true;
  leading = false;
  assert.equal(await check(), true, 'a standby dispatches nothing');
  leading = true;
  await beat.stop();
});

test('/healthz stall rule: a dispatch that never answers is a stall; nothing due is not', async () => {
  const { beat, dispatcher, add, stallCheck } = rig();
  const check = stallCheck();
  beat.start();
  await clock.advance(30_000, 1000);
  assert.equal(await check(), true, 'no task: nothing is due');
  add('a');
  dispatcher.hold();
  await clock.advance(12_000, 100);
  assert.match(String(await check()), /a dispatch batch has not completed/);
  dispatcher.release();
  await clock.advance(1000, 100);
  assert.equal(await check(), true, 'answered: no longer stuck');
  await beat.stop();
});

test('/healthz stall rule: failures that stopped (the task is gone) are not a stall', async () => {
  const { beat, add, failNext, stallCheck } = rig();
  const check = stallCheck();
  const a = add('a');
  failNext(100, new StoreUnavailableError(new Error(OOM)));
  beat.start();
  await clock.advance(5000, 100);
  beat.delete(a);
  await clock.advance(30_000, 1000);
  assert.equal(await check(), true);
  await beat.stop();
});

test('/healthz stall rule: a PING that does not answer in time counts as Redis unreachable', async () => {
  const { beat, add, failNext, stallCheck } = rig();
  const check = stallCheck({ ping: () => new Promise(() => {}), pingTimeoutMs: 500 });
  add('a');
  failNext(100, new StoreUnavailableError(new Error('Connection is closed.')));
  beat.start();
  await clock.advance(12_000, 100);
  const verdict = check();
  await clock.advance(600, 100);
  assert.equal(await verdict, true);
  await beat.stop();
});
