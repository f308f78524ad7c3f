// The README's quick start, end to end: the operator on examples/ and a worker from examples/worker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { startProcess } from '../support/process.ts';
import { startRedisServer } from '../support/redis-server.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

test('the examples run on a worker started from examples/worker', { timeout: 120_000 }, async () => {
  const server = await startRedisServer();
  const operator = startOperator(['--manifests', EXAMPLES, '--redis-url', server.url]);
  const worker = startProcess(
    'quick-start worker',
    '/usr/bin/python3',
    [
      '-m',
      'celery',
      '-A',
      'tasks',
      'worker',
      '--pool',
      'solo',
      '--loglevel',
      'INFO',
      '--without-heartbeat',
      '--without-gossip',
      '--without-mingle',
    ],
    { cwd: `${EXAMPLES}worker`, env: { ...process.env, CELERY_BROKER_URL: server.url } },
  );
  try {
    await waitUntil(
      'tasks.add from add-every-10-seconds to succeed on the worker',
      () => /Task tasks\.add\[[0-9a-f-]+\] succeeded in \S+: 5$/m.test(worker.output()),
      30_000,
      200,
    );
    await waitUntil(
      'tasks.record to succeed with its PeriodicTask name',
      () =>
        /Task tasks\.record\[[0-9a-f-]+\] succeeded .*'periodic_task_name': 'default\//.test(worker.output()),
      30_000,
      200,
    );
    assert.ok(operator.logs().some((l) => l.msg === 'task sent' && l.name === 'add-every-10-seconds'));
  } finally {
    await worker.stop();
    await operator.stop();
    await server.stop();
  }
});
