// The namespace header on a real Celery 5.2.6 worker: it arrives as `self.request.periodic_task_namespace`, and
// the guard docs/multi-tenancy.md shows (a base task whose `before_start` rejects other namespaces) keeps
// another namespace's run from reaching the task body.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildTaskMessage } from '../../../src/celery/message.ts';
import { taskIdForSlot } from '../../../src/celery/task-id.ts';
import type { Broker } from '../../../src/contracts.ts';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { openBroker } from './worker-scenarios.ts';

let server: RedisServer;
let broker: Broker;

before(async () => {
  server = await startRedisServer();
  broker = await openBroker(server.url);
});

after(async () => {
  await broker?.close();
  await server?.stop();
});

async function publish(namespace: string, originalName?: string): Promise<string> {
  const slot = Date.now();
  const key = `${namespace}/report`;
  const id = taskIdForSlot(key, 'uid-1', slot);
  const options = { queue: 'guarded', headers: {} };
  const message = buildTaskMessage({
    task: 'tasks.record',
    id,
    args: [namespace],
    kwargs: {},
    options,
    scheduledAt: slot,
    periodicTaskName: key,
    namespace,
    ...(originalName === undefined ? {} : { originalName }),
  });
  const [outcome] = await broker.publish([{ message, options }]);
  assert.deepEqual(outcome, { ok: true });
  return id;
}

test('the namespace header reaches the worker, and its guard refuses the namespaces it does not allow', async () => {
  const worker = await startCeleryWorker({
    brokerUrl: `${server.url}/0`,
    queues: ['guarded'],
    env: { CELERY_TEST_ALLOWED_NAMESPACES: JSON.stringify(['team-a']) },
  });
  try {
    const refused = await publish('team-b');
    const allowed = await publish('team-a', 'Nightly Report');
    const [run] = await worker.waitForExecutions(1, 60_000);
    assert.equal(run?.id, allowed);
    assert.equal(run.request.periodic_task_namespace, 'team-a');
    assert.equal(run.request.periodic_task_name, 'team-a/report');
    assert.equal(run.request.original_periodic_task_name, 'Nightly Report');
    await waitUntil(
      'the guard to refuse team-b',
      async () => (await worker.nonExecutions()).some((r) => r.event === 'refused' && r.id === refused),
      30_000,
      100,
    );
    // Published first, refused before its body: team-b's run never started.
    assert.deepEqual(
      (await worker.executions()).map((e) => e.id),
      [allowed],
    );
  } finally {
    await worker.stop();
  }
});
