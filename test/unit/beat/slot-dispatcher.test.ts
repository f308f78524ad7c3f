// The claim-then-publish dispatcher never leaves a claim behind a publish that did not happen, and never
// gives back one whose publish may have happened.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimThenPublishDispatcher } from '../../../src/beat/slot-dispatcher.ts';
import type { Broker, PlannedSlot, PublishOutcome, TaskMessage } from '../../../src/contracts.ts';
import { runState } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';

const throwingBroker: Broker = {
  url: 'redis://broker',
  publish: async () => {
    throw new Error('connection reset while publishing');
  },
  revoke: async () => {},
  close: async () => {},
};

/** Never looked at: the broker throws before. */
const message: TaskMessage = {
  headers: {},
  properties: { correlation_id: 'id', reply_to: '', delivery_mode: 2, priority: 0 },
  body: '[[], {}, {}]',
  contentType: 'application/json',
  contentEncoding: 'utf-8',
};

test('a broker that throws fails its slots alone: each claim is given back, nothing is thrown', async () => {
  const store = new MemoryTaskStore();
  const slots: PlannedSlot[] = ['ns/a', 'ns/b'].map((taskKey) => {
    store.put(taskKey, 'uid', runState(1000));
    return {
      taskKey,
      expected: runState(1000),
      next: runState(2000, { totalRunCount: 1 }),
      publish: { message, options: { queue: 'celery', headers: {} } },
    };
  });
  const outcomes = await new ClaimThenPublishDispatcher(store, throwingBroker).dispatch(slots, '');
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'publish-failed');
    assert.match((outcome as { error: Error }).error.message, /connection reset/);
  }
  assert.deepEqual(store.stateOf('ns/a'), runState(1000), 'claim given back');
  assert.deepEqual(store.stateOf('ns/b'), runState(1000), 'claim given back');
});

function brokerAnswering(outcome: PublishOutcome): Broker & { sent: number } {
  const b = {
    url: 'redis://broker',
    sent: 0,
    publish: async (messages: readonly unknown[]) => {
      b.sent += messages.length;
      return messages.map(() => outcome);
    },
    revoke: async () => {},
    close: async () => {},
  };
  return b;
}

const slotOf = (taskKey: string): PlannedSlot => ({
  taskKey,
  expected: runState(1000),
  next: runState(2000, { totalRunCount: 1, lastTaskId: 'id-2000', lastTaskSlot: 2000 }),
  publish: { message, options: { queue: 'celery', headers: {} } },
});

test('a claim records a publish under way; a publish of unknown outcome keeps it, counted as unknown, never resent', async () => {
  const store = new MemoryTaskStore();
  store.put('ns/a', 'uid', runState(1000));
  const broker = brokerAnswering({ ok: false, error: new Error('no confirm'), unknown: true });
  const dispatcher = new ClaimThenPublishDispatcher(store, broker);
  const [outcome] = await dispatcher.dispatch([slotOf('ns/a')], '');
  const unknown = runState(2000, { unknownRunCount: 1 });
  assert.deepEqual(outcome, { status: 'unknown', error: new Error('no confirm'), stored: unknown });
  assert.deepEqual(store.stateOf('ns/a'), unknown, 'the slot is taken, not counted as a run');
  const [again] = await dispatcher.dispatch([slotOf('ns/a')], '');
  assert.equal(again?.status, 'conflict', 'a retry of the slot finds it taken');
  assert.equal(broker.sent, 1, 'sent once');
});

test('a confirmed publish whose record cannot be written yet stays under way, and is recorded before the next claim', async () => {
  const store = new MemoryTaskStore();
  store.put('ns/a', 'uid', runState(1000));
  const dispatcher = new ClaimThenPublishDispatcher(store, brokerAnswering({ ok: true }));
  store.failNext('settle', new Error('connection lost'));
  const [outcome] = await dispatcher.dispatch([slotOf('ns/a')], '');
  assert.deepEqual(outcome, { status: 'ok' });
  assert.equal(store.stateOf('ns/a')?.publishing?.taskId, 'id-2000', 'under way until recorded');
  assert.equal(store.stateOf('ns/a')?.totalRunCount, 0);
  store.put('ns/b', 'uid', runState(1000));
  await dispatcher.dispatch([slotOf('ns/b')], '');
  assert.deepEqual(store.stateOf('ns/a'), slotOf('ns/a').next, 'recorded as the run');
});

test('a manual run goes through the same claim: fenced, claimed once, and kept when its outcome is unknown', async () => {
  const store = new MemoryTaskStore();
  store.put('ns/a', 'uid', runState(1000));
  store.lockHolder = 'leader';
  const broker = brokerAnswering({ ok: false, error: new Error('no confirm'), unknown: true });
  const dispatcher = new ClaimThenPublishDispatcher(store, broker);
  const manual = { taskKey: 'ns/a', claim: 'run-now:x', publish: slotOf('ns/a').publish! };
  assert.deepEqual(await dispatcher.dispatch([manual], 'stale'), [{ status: 'fenced' }]);
  assert.equal(broker.sent, 0);
  const [outcome] = await dispatcher.dispatch([manual], 'leader');
  assert.equal(outcome?.status, 'unknown');
  assert.deepEqual(
    store.stateOf('ns/a'),
    runState(1000, { unknownRunCount: 1 }),
    'counted; cursor not moved',
  );
  assert.deepEqual(await dispatcher.dispatch([manual], 'leader'), [
    { status: 'claimed-before', claim: { state: 'unknown' } },
  ]);
  assert.equal(broker.sent, 1);
});
