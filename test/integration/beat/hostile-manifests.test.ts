// What one team writes must never stop anyone else's tasks: the real `run` command in standalone mode with a
// sub-millisecond interval, a missing exchange, a misspelt apiVersion, an unknown time zone and files replaced
// the way editors and git do, next to tasks that must keep running exactly once per slot.
import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from 'amqplib';
import { stringify } from 'yaml';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { intervalTask } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../../support/rabbitmq.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
const queues: string[] = [];

after(() => deleteQueues(queues));

async function storedRuns(name: string): Promise<number | null> {
  const raw = await bed.redis.get(`tasks:meta:default/${name}`);
  return raw === null ? null : (JSON.parse(raw).total_run_count as number);
}

const micro = (queue: string) => ({
  ...intervalTask('micro', 1500, { task: 'tasks.add', args: [1, 2], options: { queue } }),
  spec: {
    task: 'tasks.add',
    args: [1, 2],
    interval: { every: 1500, period: 'microseconds' },
    options: { queue },
  },
});

test('over RabbitMQ: ten tasks run once per slot next to a missing exchange and a 1.5 ms interval', async () => {
  const queue = uniqueQueueName('hostile');
  const microQueue = uniqueQueueName('hostile-micro');
  queues.push(queue, microQueue);
  const conn = await connect(RABBITMQ_URL);
  await (await conn.createChannel()).assertQueue(microQueue, { durable: true });
  await conn.close();
  const dir = await bed.manifests();
  const neighbours = Array.from({ length: 10 }, (_, i) =>
    intervalTask(`neighbour-${i}`, 1, { args: [i], options: { queue } }),
  );
  await dir.write('neighbours.yaml', ...neighbours);
  await dir.write(
    'bad-exchange.yaml',
    intervalTask('bad-exchange', 1, { options: { queue, exchange: 'no-such-exchange', routingKey: queue } }),
  );
  await dir.write('micro.yaml', micro(microQueue));
  const worker = await startCeleryWorker({ brokerUrl: RABBITMQ_URL, queues: [queue] });
  const operator = bed.operator(dir, ['--broker-url', RABBITMQ_URL]);
  try {
    const perTask = (runs: Awaited<ReturnType<typeof worker.executions>>, name: string) =>
      runs.filter((r) => r.request.periodic_task_name === `default/${name}`);
    const runs = await worker.waitForExecutions(
      (all) => neighbours.every((_, i) => perTask(all, `neighbour-${i}`).length >= 4),
      60_000,
    );
    await operator.waitForLog(
      'the missing exchange reported on its own task',
      (l) => l.msg === 'task not sent' && l.name === 'bad-exchange' && /NOT_FOUND/.test(String(l.reason)),
    );
    assert.equal(operator.process.hasExited(), false, 'run keeps going');
    const ids = runs.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'no task id ran twice');
    for (let i = 0; i < 10; i++) {
      const slots = perTask(runs, `neighbour-${i}`).map((r) => String(r.request.periodic_task_scheduled_at));
      assert.equal(new Set(slots).size, slots.length, `neighbour-${i}: one run per slot`);
    }
    assert.equal(perTask(runs, 'bad-exchange').length, 0);
    // A slot is claimed before it is published and given back when RabbitMQ refuses it: between the two the
    // key may show the claim, so the count is read until it is back (it never stays above 0).
    await waitUntil(
      'the refused slot given back, not recorded as run',
      async () => (await storedRuns('bad-exchange')) === 0,
      10_000,
    );
    assert.ok(((await storedRuns('micro')) ?? 0) > 0, 'the 1.5 ms interval runs');
  } finally {
    assert.equal(await operator.stop(), 0, 'a clean exit');
    await worker.stop();
  }
});

test('edits that once lost run state keep it: a misspelt apiVersion, an unknown zone, files replaced or re-created', async () => {
  const dir = await bed.manifests();
  const keep = intervalTask('keep', 1);
  await dir.write('keep.yaml', keep);
  await dir.write('steady.yaml', intervalTask('steady', 1));
  await dir.write('micro.yaml', micro('celery'));
  const operator = bed.operator(dir);
  const runsOf = async (name: string) => (await storedRuns(name)) ?? -1;
  /** Waits until `name` has run more than `than` times, and returns its count. */
  const ranBeyond = async (name: string, than: number) => {
    await waitUntil(`${name} to run beyond ${than}`, async () => (await runsOf(name)) > than, 20_000);
    return runsOf(name);
  };
  try {
    let count = await ranBeyond('keep', 1);
    let steady = await ranBeyond('steady', 0);

    await dir.write('keep.yaml', { ...keep, apiVersion: 'celerybeat.io/v1aplha1' });
    await operator.waitForLog(
      'the typo reported',
      (l) => l.msg === 'invalid PeriodicTask' && l.name === 'keep' && /apiVersion/.test(String(l.reason)),
    );
    assert.ok((await runsOf('keep')) >= count, 'run state kept while the apiVersion is wrong');
    steady = await ranBeyond('steady', steady);
    await dir.write('keep.yaml', keep);
    count = await ranBeyond('keep', count);

    const spec = keep.spec as Record<string, unknown>;
    await dir.write('keep.yaml', { ...keep, spec: { ...spec, timeZone: 'Mars/Olympus_Mons' } });
    await operator.waitForLog(
      'the unknown zone reported',
      (l) => l.msg === 'invalid PeriodicTask' && l.name === 'keep' && /timeZone/.test(String(l.reason)),
    );
    assert.ok((await runsOf('keep')) >= count, 'run state kept while the zone is unknown');
    steady = await ranBeyond('steady', steady);
    await dir.write('keep.yaml', keep);
    count = await ranBeyond('keep', count);

    // An editor's save: write a temporary file, rename it over the old one.
    const tmp = join(dir.path, '.keep.yaml.tmp');
    await writeFile(tmp, stringify({ ...keep, spec: { ...spec, args: [1] } }));
    await rename(tmp, join(dir.path, 'keep.yaml'));
    count = await ranBeyond('keep', count);
    // git checkout: the file is deleted and written again.
    await rm(join(dir.path, 'keep.yaml'));
    await dir.write('keep.yaml', keep);
    count = await ranBeyond('keep', count);
    steady = await ranBeyond('steady', steady);

    // The earlier test's tasks, whose keys share this Redis, are loaded at start and removed: not these.
    const own = new Set(['default/keep', 'default/steady', 'default/micro']);
    const removed = operator.logs().filter((l) => l.msg === 'task removed' && own.has(String(l.task)));
    assert.deepEqual(
      removed,
      [],
      `no task was removed and re-created; the operator's lines:\n${operator.process.output().slice(-6000)}`,
    );
    assert.equal(
      operator.logs().filter((l) => l.msg === 'invalid PeriodicTask').length,
      2,
      'each invalid spec logged once',
    );
    assert.equal(operator.process.hasExited(), false);
  } finally {
    assert.equal(await operator.stop(), 0);
  }
});
