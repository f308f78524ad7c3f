// The beat with RabbitMQ as the broker: the slot is claimed in Redis, published with a confirm, and given
// back when the publish fails, so it is retried instead of lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { intervalTask, type ManifestDir } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../../support/rabbitmq.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
let dir: ManifestDir;
const queues: string[] = [];

before(async () => {
  dir = await bed.manifests();
});

after(() => deleteQueues(queues));

async function storedRuns(name: string): Promise<number> {
  const raw = await bed.redis.get(`tasks:meta:default/${name}`);
  return raw === null ? 0 : (JSON.parse(raw).total_run_count as number);
}

test('a task every second runs on a worker through RabbitMQ, once per slot', async () => {
  const queue = uniqueQueueName('beat-amqp');
  queues.push(queue);
  await dir.write(
    'amqp.yaml',
    intervalTask('via-rabbitmq', 1, { args: [4, 2], options: { queue, headers: { tenant: 'acme' } } }),
  );
  const worker = await startCeleryWorker({ brokerUrl: RABBITMQ_URL, queues: [queue] });
  const operator = bed.operator(dir, ['--broker-url', RABBITMQ_URL]);
  try {
    const runs = await worker.waitForExecutions(3, 20_000);
    for (const run of runs) {
      assert.deepEqual(run.args, [4, 2]);
      assert.equal(run.request.periodic_task_name, 'default/via-rabbitmq');
      assert.equal(run.request.tenant, 'acme');
    }
    const slots = runs.map((r) => String(r.request.periodic_task_scheduled_at));
    assert.equal(new Set(slots).size, slots.length, 'one message per slot');
    assert.ok((await storedRuns('via-rabbitmq')) >= 3, 'the runs are recorded in Redis');
    assert.ok(operator.logs().some((l) => l.msg === 'broker connected' && l.atomic === false));
  } finally {
    await operator.stop();
    await worker.stop();
  }
});

test('a publish RabbitMQ cannot route gives the slot back, and it runs once the queue exists', async () => {
  const queue = uniqueQueueName('beat-amqp-late');
  queues.push(queue);
  await dir.write('late.yaml', intervalTask('late-queue', 1, { options: { queue } }));
  const operator = bed.operator(dir, ['--broker-url', RABBITMQ_URL]);
  try {
    await operator.waitForLog(
      'a failed publish',
      (l) => l.msg === 'publish failed, retrying' && l.name === 'late-queue',
      15_000,
    );
    assert.equal(await storedRuns('late-queue'), 0, 'a slot that was not delivered is not recorded as run');
    const worker = await startCeleryWorker({ brokerUrl: RABBITMQ_URL, queues: [queue] });
    try {
      const [run] = await worker.waitForExecutions(1, 20_000);
      assert.equal(run?.request.periodic_task_name, 'default/late-queue');
      await waitUntil('the run recorded', async () => (await storedRuns('late-queue')) >= 1, 10_000);
    } finally {
      await worker.stop();
    }
  } finally {
    await operator.stop();
  }
});
