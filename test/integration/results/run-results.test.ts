// --result-backend with real Celery 5.2.6 workers storing results in Redis: a succeeding, a raising and a
// retrying task are followed to their results (log lines, metrics, the history kept in Redis), and
// concurrencyPolicy Forbid skips slots while the previous run is still going, Replace terminates it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { historyKey } from '../../../src/results/redis-history-store.ts';
import type { TrackedRun } from '../../../src/results/run-history.ts';
import { type Execution, startCeleryWorker } from '../../support/celery-worker.ts';
import { counterValue, startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { startRedisServer } from '../../support/redis-server.ts';

function manifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace: 'results' },
    spec,
  });
}

const nameOf = (e: Execution) => e.request.periodic_task_name;

test('results, retries, Forbid and Replace with a real worker and result backend', {
  timeout: 180_000,
}, async () => {
  const server = await startRedisServer();
  const results = `${server.url}/1`;
  const redis = new Redis(server.url);
  const dir = await mkdtemp(join(tmpdir(), 'results-'));
  const worker = await startCeleryWorker({
    brokerUrl: server.url,
    queues: ['celery'],
    concurrency: 4,
    env: { CELERY_TEST_RESULT_BACKEND: results },
  });
  const files: Array<[string, Record<string, unknown>]> = [
    ['adds', { task: 'tasks.add', interval: { every: 2, period: 'seconds' }, args: [2, 3] }],
    ['fails', { task: 'tasks.fail', interval: { every: 3, period: 'seconds' }, args: ['disk full'] }],
    ['retries', { task: 'tasks.flaky', clocked: new Date(Date.now() + 3000).toISOString(), args: ['m'] }],
    [
      'forbids',
      {
        task: 'tasks.sleep',
        interval: { every: 1, period: 'seconds' },
        args: [2.5],
        concurrencyPolicy: 'Forbid',
      },
    ],
    [
      'replaces',
      {
        task: 'tasks.sleep',
        interval: { every: 3, period: 'seconds' },
        args: [60],
        concurrencyPolicy: 'Replace',
      },
    ],
  ];
  for (const [name, spec] of files) await writeFile(join(dir, `${name}.json`), manifest(name, spec));
  const operator = startOperator([
    '--manifests',
    dir,
    '--redis-url',
    server.url,
    '--result-backend',
    results,
  ]);
  const history = async (name: string): Promise<TrackedRun[]> =>
    JSON.parse((await redis.get(historyKey('tasks:meta:', `results/${name}`))) ?? '[]') as TrackedRun[];
  try {
    // Success, failure with the traceback's last line, and a retry that then succeeds.
    await operator.waitForLog(
      'a success',
      (l) => l.msg === 'run finished' && l.name === 'adds' && l.state === 'SUCCESS',
      30_000,
    );
    await operator.waitForLog(
      'a failure with its error line',
      (l) =>
        l.msg === 'run did not succeed' &&
        l.name === 'fails' &&
        l.state === 'FAILURE' &&
        l.error === 'RuntimeError: disk full',
      30_000,
    );
    await operator.waitForLog(
      'a retry',
      (l) => l.msg === 'run retrying' && l.name === 'retries' && l.state === 'RETRY',
      30_000,
    );
    await operator.waitForLog(
      'the retried run succeeds',
      (l) => l.msg === 'run finished' && l.name === 'retries',
      30_000,
    );
    const adds = await history('adds');
    assert.ok(
      adds.some((r) => r.state === 'SUCCESS' && r.finishedAt !== null),
      'the history is kept in Redis',
    );
    const metrics = await operator.metrics();
    assert.ok(counterValue(metrics, 'celerybeat_run_results_total{state="SUCCESS"}') >= 1);
    assert.ok(counterValue(metrics, 'celerybeat_run_results_total{state="FAILURE"}') >= 1);
    assert.ok(counterValue(metrics, 'celerybeat_run_results_total{state="RETRY"}') >= 1);
    assert.match(metrics, /celerybeat_run_duration_seconds_count [1-9]/);

    // Forbid: slots that come while the 2.5 s run is going are skipped, then runs resume; none overlap.
    await worker.waitForExecutions(
      (xs) => xs.filter((e) => nameOf(e) === 'results/forbids' && e.outcome === 'succeeded').length >= 2,
      40_000,
    );
    assert.ok(
      operator.logs().some((l) => l.msg === 'slot skipped' && l.name === 'forbids'),
      'slots were skipped',
    );
    const forbids = (await worker.executions())
      .filter((e) => nameOf(e) === 'results/forbids')
      .sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < forbids.length; i += 1) {
      assert.ok(
        forbids[i]!.startedAt >= (forbids[i - 1]!.finishedAt ?? Number.POSITIVE_INFINITY),
        'Forbid runs never overlap',
      );
    }
    assert.ok(counterValue(await operator.metrics(), 'celerybeat_skipped_runs_total{reason="overlap"}') >= 1);

    // Replace: the running 60 s run is terminated on the worker, and the new one runs.
    await waitUntil(
      'a Replace run terminated on the worker',
      async () => (await worker.nonExecutions()).some((n) => n.event === 'revoked' && n.terminated === true),
      40_000,
    );
    await worker.waitForExecutions(
      (xs) => xs.filter((e) => nameOf(e) === 'results/replaces').length >= 2,
      20_000,
    );
    await operator.waitForLog(
      'the revoke',
      (l) => l.msg === 'revoked unfinished runs (concurrencyPolicy Replace)',
      10_000,
    );
    await waitUntil(
      'REVOKED in the history',
      async () => (await history('replaces')).some((r) => r.state === 'REVOKED'),
      20_000,
    );
  } finally {
    await operator.stop();
    await worker.stop();
    redis.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
