// What real Celery 5.2.6 workers observe of the messages we publish, the same for every broker: each scenario
// registers one test against a "bed" (a broker URL plus how to name and clean up queues there).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskOptions } from '../../../src/api/types.ts';
import { createBroker } from '../../../src/celery/broker.ts';
import { pythonIsoUtc } from '../../../src/celery/iso-time.ts';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import { UnsafeMessageError } from '../../../src/celery/message-check.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import type { Broker, PublishOutcome } from '../../../src/contracts.ts';
import { type CeleryWorker, type QueueSpec, startCeleryWorker } from '../../support/celery-worker.ts';

export interface Bed {
  name: string;
  brokerUrl: string;
  /** A queue (or exchange) name of this test run. */
  unique(prefix: string): string;
  /** Priorities published with no worker running, and the order the worker must run them in. */
  priority: { published: (number | undefined)[]; runOrder: number[] };
  /**
   * Makes the queue exist, as its workers would declare it, before messages are published with no worker
   * running (AMQP: a message for a queue that does not exist yet is unroutable; Redis needs nothing).
   */
  prepareQueue(spec: QueueSpec): Promise<void>;
}

export interface Sent {
  id: string;
  slot: number;
  outcome: PublishOutcome;
}

let counter = 0;

/** Builds the message of one run (deterministic id per slot) and publishes it. */
export async function send(
  broker: Broker,
  task: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: Partial<TaskOptions> & { queue: string },
  slot = Date.now(),
): Promise<Sent> {
  const full: TaskOptions = { headers: {}, ...options };
  const name = `itest/run-${process.pid}-${++counter}`;
  const id = taskIdForSlot(name, 'uid-1', slot);
  let outcome: PublishOutcome;
  try {
    const message = buildTaskMessage({
      task,
      id,
      args,
      kwargs,
      options: full,
      scheduledAt: slot,
      periodicTaskName: name,
      namespace: 'itest',
    });
    [outcome] = (await broker.publish([{ message, options: full }])) as [PublishOutcome];
  } catch (err) {
    outcome = { ok: false, error: err as Error };
  }
  return { id, slot, outcome };
}

export function assertDelivered(sent: Sent, what: string): void {
  if (!sent.outcome.ok) assert.fail(`${what}: not delivered: ${sent.outcome.error.message}`);
}

export async function withWorker<T>(
  bed: Bed,
  queues: (string | QueueSpec)[],
  body: (w: CeleryWorker) => Promise<T>,
  pool?: 'prefork',
): Promise<T> {
  const worker = await startCeleryWorker({ brokerUrl: bed.brokerUrl, queues, ...(pool ? { pool } : {}) });
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

export function registerWorkerScenarios(bed: Bed, broker: () => Broker): void {
  test(`${bed.name}: queue, user headers, periodic headers, non-ASCII, nested kwargs and a 1 MB argument reach the worker`, async () => {
    const queue = bed.unique('opts');
    await withWorker(bed, [queue], async (worker) => {
      const text = 'héllo wörld ✓ 日本語 😀 \u0000 \'quoted\' "double"';
      const kwargs = {
        nested: { a: [1, { b: 'c', d: [true, false, null] }], n: null, f: 0.25 },
        ключ: 'значение',
      };
      const a = await send(broker(), 'tasks.record', [text, 1.5, true, null, -7], kwargs, {
        queue,
        headers: { tenant: 'acme', trace: { depth: [1, 2] } },
      });
      assertDelivered(a, 'message with headers');
      const big = 'x'.repeat(1024 * 1024);
      const b = await send(broker(), 'tasks.record', [big], {}, { queue });
      assertDelivered(b, '1 MB message');
      // Executions are recorded when they start: wait for both to finish.
      const runs = await worker.waitForExecutions(
        (all) => all.filter((r) => r.outcome !== 'running').length >= 2,
        60_000,
      );
      const runA = runs.find((r) => r.id === a.id);
      const runB = runs.find((r) => r.id === b.id);
      assert.ok(runA && runB, 'both messages ran under the ids we gave them');
      assert.equal(runA.task, 'tasks.record');
      assert.deepEqual(runA.args, [text, 1.5, true, null, -7]);
      assert.deepEqual(runA.kwargs, kwargs);
      assert.equal(runA.request.tenant, 'acme');
      assert.deepEqual(runA.request.trace, { depth: [1, 2] });
      assert.match(String(runA.request.periodic_task_name), /^itest\/run-/);
      assert.equal(runA.request.periodic_task_scheduled_at, pythonIsoUtc(a.slot));
      assert.equal(runA.deliveryInfo.routing_key, queue);
      assert.equal(runA.message?.headers.argsrepr, `['${text.replaceAll("'", "\\'")}', 1.5, True, None, -7]`);
      assert.equal(runB.args.length, 1);
      assert.equal((runB.args[0] as string).length, big.length);
      assert.equal(runB.outcome, 'succeeded');
    });
  });

  test(`${bed.name}: priority decides the order a worker runs queued messages in`, async () => {
    const queue = bed.unique('prio');
    const spec: QueueSpec = { name: queue, maxPriority: 10 };
    await bed.prepareQueue(spec);
    const ids: string[] = [];
    for (const priority of bed.priority.published) {
      const sent = await send(broker(), 'tasks.record', [ids.length], {}, { queue, priority });
      assertDelivered(sent, `priority ${priority}`);
      ids.push(sent.id);
    }
    await withWorker(bed, [spec], async (worker) => {
      const runs = await worker.waitForExecutions(ids.length, 60_000);
      const order = [...runs].sort((x, y) => x.startedAt - y.startedAt).map((r) => r.args[0]);
      assert.deepEqual(
        order,
        bed.priority.runOrder,
        `published as ${JSON.stringify(bed.priority.published)}`,
      );
    });
  });

  test(`${bed.name}: an expired message is discarded, not run, and one already expired is not sent`, async () => {
    const queue = bed.unique('expires');
    await bed.prepareQueue({ name: queue });
    const now = Date.now();
    const expiring = await send(broker(), 'tasks.record', ['expiring'], {}, { queue, expires: 1 }, now);
    assertDelivered(expiring, 'expiring message');
    const late = await send(broker(), 'tasks.record', ['late'], {}, { queue, expires: 5 }, now - 10_000);
    assert.equal(late.outcome.ok, false);
    assert.ok(!late.outcome.ok && late.outcome.error instanceof UnsafeMessageError);
    assert.equal(late.outcome.error.reason, 'expired');
    const plain = await send(broker(), 'tasks.record', ['plain'], {}, { queue, expires: 600 }, now);
    assertDelivered(plain, 'message expiring in 10 minutes');
    await sleep(Math.max(0, now + 1500 - Date.now()));
    await withWorker(bed, [queue], async (worker) => {
      const runs = await worker.waitForExecutions(1, 30_000);
      assert.deepEqual(runs[0]?.args, ['plain']);
      await sleep(1500);
      const all = await worker.executions();
      assert.deepEqual(
        all.map((r) => r.args[0]),
        ['plain'],
        'neither the expired message nor the one that was never sent ran',
      );
    });
  });

  test(`${bed.name}: soft and hard time limits are enforced by the worker`, async () => {
    const queue = bed.unique('limits');
    await withWorker(
      bed,
      [queue],
      async (worker) => {
        const soft = await send(broker(), 'tasks.sleep', [5], {}, { queue, softTimeLimit: 1, timeLimit: 20 });
        assertDelivered(soft, 'soft limit');
        const hard = await send(broker(), 'tasks.sleep', [30], {}, { queue, timeLimit: 2 });
        assertDelivered(hard, 'hard limit');
        const runs = await worker.waitForExecutions(
          (e) =>
            e.some((r) => r.id === soft.id && r.outcome !== 'running') && e.some((r) => r.id === hard.id),
          60_000,
        );
        const softRun = runs.find((r) => r.id === soft.id);
        assert.equal(softRun?.outcome, 'soft-time-limit');
        assert.deepEqual(softRun?.timeLimit, [20, 1]);
        const hardRun = runs.find((r) => r.id === hard.id);
        assert.deepEqual(hardRun?.timeLimit, [2, null]);
        const deadline = Date.now() + 20_000;
        const killed = new RegExp(
          `Hard time limit \\(2(\\.0)?s\\) exceeded for tasks\\.sleep\\[${hard.id}\\]`,
        );
        while (!killed.test(worker.log()) && Date.now() < deadline) await sleep(200);
        assert.match(worker.log(), killed);
        const after = (await worker.executions()).find((r) => r.id === hard.id);
        assert.equal(after?.outcome, 'running', 'the hard-limited task never finished');
      },
      'prefork',
    );
  });

  test(`${bed.name}: an explicit exchange routes through the worker's bindings (direct and topic)`, async () => {
    const direct = bed.unique('bound');
    const topic = bed.unique('topic');
    const directEx = bed.unique('ex-direct');
    const topicEx = bed.unique('ex-topic');
    const queues: QueueSpec[] = [
      { name: direct, exchange: directEx, routingKey: 'hi.key' },
      { name: topic, exchange: topicEx, exchangeType: 'topic', routingKey: 'jobs.*' },
    ];
    await withWorker(bed, queues, async (worker) => {
      const a = await send(
        broker(),
        'tasks.record',
        ['direct'],
        {},
        { queue: direct, exchange: directEx, routingKey: 'hi.key' },
      );
      assertDelivered(a, 'direct exchange');
      const b = await send(
        broker(),
        'tasks.record',
        ['topic'],
        {},
        { queue: topic, exchange: topicEx, routingKey: 'jobs.daily' },
      );
      assertDelivered(b, 'topic exchange');
      const miss = await send(
        broker(),
        'tasks.record',
        ['miss'],
        {},
        { queue: direct, exchange: directEx, routingKey: 'other.key' },
      );
      assert.equal(miss.outcome.ok, false, 'a routing key without a binding is reported, not dropped');
      const runs = await worker.waitForExecutions(2, 30_000);
      const byArg = new Map(runs.map((r) => [r.args[0], r]));
      assert.equal(byArg.get('direct')?.deliveryInfo.exchange, directEx);
      assert.equal(byArg.get('direct')?.deliveryInfo.routing_key, 'hi.key');
      assert.equal(byArg.get('topic')?.deliveryInfo.routing_key, 'jobs.daily');
      await sleep(500);
      assert.equal((await worker.executions()).length, 2);
    });
  });

  test(`${bed.name}: an explicit exchange nobody bound gives an error`, async () => {
    const queue = bed.unique('nobody');
    const sent = await send(
      broker(),
      'tasks.record',
      ['x'],
      {},
      { queue, exchange: bed.unique('ex-none'), routingKey: 'k' },
    );
    assert.equal(sent.outcome.ok, false);
    assert.ok(!sent.outcome.ok);
    assert.match(sent.outcome.error.message, /no queue is bound|could not route|NOT_FOUND|no exchange/);
  });
}

/** A broker for `url`, closed by the caller. */
export function openBroker(url: string): Promise<Broker> {
  return createBroker(url, { connectTimeoutMs: 2000 });
}
