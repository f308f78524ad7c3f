// --result-backend on a real API server with a real Celery worker storing results: status shows the last
// result, the last success and failure and the recent runs, `kubectl get pt` the LAST RESULT column, and a
// Forbid task's skipped slots show in its Ready condition and missedRunCount.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTask } from '../../src/api/types.ts';
import { startCeleryWorker } from '../support/celery-worker.ts';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

test('run results in status and kubectl get pt', { timeout: 240_000 }, async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-results');
  const server = await startRedisServer();
  const results = `${server.url}/1`;
  const queue = 'e2e-results';
  const worker = await startCeleryWorker({
    brokerUrl: server.url,
    queues: [queue],
    concurrency: 4,
    env: { CELERY_TEST_RESULT_BACKEND: results },
  });
  const operator = startClusterOperator(ns, server.url, ['--result-backend', results]);
  const get = async (name: string) =>
    JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace, '-o', 'json'])) as PeriodicTask;
  const apply = (name: string, spec: Record<string, unknown>) =>
    cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(ns.namespace, name, { ...spec, options: { queue } }),
    });
  try {
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    await apply('succeeds', { task: 'tasks.add', args: [2, 3], interval: { every: 2, period: 'seconds' } });
    await apply('fails', {
      task: 'tasks.fail',
      args: ['disk full'],
      interval: { every: 2, period: 'seconds' },
    });
    await apply('overlaps', {
      task: 'tasks.sleep',
      args: [3],
      interval: { every: 1, period: 'seconds' },
      concurrencyPolicy: 'Forbid',
    });
    await apply('retries', {
      task: 'tasks.flaky',
      args: ['m'],
      clocked: new Date(Date.now() + 3000).toISOString(),
    });
    await apply('replaces', {
      task: 'tasks.sleep',
      args: [60],
      interval: { every: 3, period: 'seconds' },
      concurrencyPolicy: 'Replace',
    });
    await waitUntil(
      'a SUCCESS result in status',
      async () => (await get('succeeds')).status?.lastResult?.state === 'SUCCESS',
      40_000,
    );
    await waitUntil(
      'a FAILURE result in status',
      async () => (await get('fails')).status?.lastResult?.state === 'FAILURE',
      40_000,
    );
    const ok = (await get('succeeds')).status!;
    assert.ok(ok.lastSuccessfulRunAt, 'lastSuccessfulRunAt');
    assert.ok(ok.recentRuns?.some((r) => r.state === 'SUCCESS' && r.durationSeconds !== undefined));
    const failed = (await get('fails')).status!;
    assert.equal(failed.lastResult?.error, 'RuntimeError: disk full');
    assert.ok(failed.lastFailedRunAt, 'lastFailedRunAt');
    assert.equal(failed.lastSuccessfulRunAt, undefined);
    const table = await cluster.kubectl(['get', 'pt', '-n', ns.namespace]);
    assert.match(table, /^NAME\s.*\sRUNS\s+LAST RESULT\s+AGE$/m);
    assert.match(table, /^fails\s.*\sFAILURE\s+\S+$/m);
    assert.match(table, /^succeeds\s.*\sSUCCESS\s+\S+$/m);

    await waitUntil(
      'a skipped slot in the Forbid task status',
      async () => {
        const s = (await get('overlaps')).status;
        const ready = s?.conditions?.find((c) => c.type === 'Ready');
        return ready?.reason === 'RunSkipped' && (s?.missedRunCount ?? 0) > 0;
      },
      40_000,
    );
    const ready = (await get('overlaps')).status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.match(ready?.message ?? '', /has not finished \(concurrencyPolicy Forbid\)/);
    await waitUntil(
      'the retried run SUCCESS in status',
      async () => (await get('retries')).status?.lastResult?.state === 'SUCCESS',
      40_000,
    );
    assert.match(
      worker.log(),
      /Task tasks\.flaky\[[0-9a-f-]+\] retry: Retry in 1s/,
      'the first attempt retried',
    );
    await waitUntil(
      'a run replaced: REVOKED in recentRuns',
      async () => (await get('replaces')).status?.recentRuns?.some((r) => r.state === 'REVOKED') === true,
      40_000,
    );
    assert.ok((await worker.nonExecutions()).some((n) => n.event === 'revoked' && n.terminated === true));
    const sleeps = (await worker.executions())
      .filter((e) => e.request.periodic_task_name === `${ns.namespace}/overlaps`)
      .sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sleeps.length; i += 1) {
      assert.ok(
        sleeps[i]!.startedAt >= (sleeps[i - 1]!.finishedAt ?? Number.POSITIVE_INFINITY),
        'no overlap',
      );
    }
  } finally {
    await operator.stop();
    await worker.stop();
    await server.stop();
  }
});
