// The broker defaults to the store's Redis, and that holds for a Sentinel URL too: with only
// `--redis-url redis+sentinel://…` the operator starts, and a real Celery worker on kombu's Sentinel transport
// (`sentinel://…` with `master_name`) runs what it sends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { intervalTask, manifestDir } from '../../support/manifests.ts';
import { startOperator } from '../../support/operator-process.ts';
import { MASTER_NAME, startSentinelSet } from '../../support/sentinel.ts';

test('--redis-url redis+sentinel:// without --broker-url: runs reach a Celery worker through the Sentinels', async () => {
  const sentinel = await startSentinelSet();
  const dir = await manifestDir();
  const queue = 'sentinel-store';
  let operator: ReturnType<typeof startOperator> | undefined;
  const worker = await startCeleryWorker({
    brokerUrl: sentinel.sentinelPorts.map((port) => `sentinel://127.0.0.1:${port}/1`).join(';'),
    queues: [queue],
    env: { CELERY_TEST_BROKER_TRANSPORT_OPTIONS: JSON.stringify({ master_name: MASTER_NAME }) },
  });
  try {
    await dir.write('task.yaml', intervalTask('through-sentinel', 1, { options: { queue } }));
    operator = startOperator([
      '--manifests',
      dir.path,
      '--redis-url',
      sentinel.url(1),
      '--log-level',
      'warn',
    ]);
    const executions = await worker.waitForExecutions(2, 30_000);
    assert.equal(executions[0]!.request.periodic_task_name, 'default/through-sentinel');
    assert.deepEqual(
      operator.logs().filter((l) => l.level === 'error' || l.level === 'fatal'),
      [],
      'no error logged',
    );
  } finally {
    await operator?.stop();
    await worker.stop();
    await dir.remove();
    await sentinel.stop();
  }
});
