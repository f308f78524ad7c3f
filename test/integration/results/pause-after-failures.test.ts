// spec.pauseAfterFailures with a real Celery 5.2.6 worker storing results in a real Redis: a task that raises
// is paused after two failed runs in a row (standalone mode, its Ready in the log), sends nothing more, stays
// paused when another operator process takes over, and `celerybeat-operator resume` brings it back with the
// count started over. A task that succeeds runs beside it all along, as the test's clock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { decodeTaskValue } from '../../../src/store/task-record.ts';
import { type Execution, startCeleryWorker } from '../../support/celery-worker.ts';
import { type OperatorProcess, startOperator } from '../../support/operator-process.ts';
import { startRedisServer } from '../../support/redis-server.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const LIMIT = 2;

function manifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace: 'results' },
    spec,
  });
}

const runsOf = (xs: Execution[], name: string) =>
  xs.filter((e) => e.request.periodic_task_name === `results/${name}`);

/** The `task status` line that says the task is paused by its failures. */
const pausedLine = (line: Record<string, unknown>): boolean => {
  const ready = line.ready as { reason?: string; message?: string } | undefined;
  return (
    line.msg === 'task status' &&
    line.name === 'fails' &&
    ready?.reason === 'Paused' &&
    (ready.message ?? '').includes(`paused after ${LIMIT} failed runs in a row`)
  );
};

test('pauseAfterFailures: paused after N failures with a real worker, no run after, kept across a takeover, resumed', {
  timeout: 240_000,
}, async () => {
  const server = await startRedisServer();
  const results = `${server.url}/1`;
  const redis = new Redis(server.url);
  const dir = await mkdtemp(join(tmpdir(), 'pause-after-failures-'));
  const worker = await startCeleryWorker({
    brokerUrl: server.url,
    queues: ['celery'],
    concurrency: 2,
    env: { CELERY_TEST_RESULT_BACKEND: results },
  });
  await writeFile(
    join(dir, 'fails.json'),
    manifest('fails', {
      task: 'tasks.fail',
      interval: { every: 3, period: 'seconds' },
      args: ['disk full'],
      pauseAfterFailures: LIMIT,
    }),
  );
  await writeFile(
    join(dir, 'ticks.json'),
    manifest('ticks', { task: 'tasks.add', interval: { every: 1, period: 'seconds' }, args: [1, 2] }),
  );
  const args = ['--manifests', dir, '--redis-url', server.url, '--result-backend', results];
  const operators: OperatorProcess[] = [];
  const start = (): OperatorProcess => {
    const operator = startOperator(args);
    operators.push(operator);
    return operator;
  };
  /** Waits until the clock task ran `n` more times: time passed with the beat working. */
  const ticks = async (n: number): Promise<void> => {
    const seen = runsOf(await worker.executions(), 'ticks').length;
    await worker.waitForExecutions((xs) => runsOf(xs, 'ticks').length >= seen + n, 60_000);
  };
  const failedRuns = async () => runsOf(await worker.executions(), 'fails');
  const storedState = async () => {
    const raw = await redis.get('tasks:meta:results/fails');
    assert.ok(raw !== null, 'the task key exists');
    return decodeTaskValue(raw).runState;
  };
  try {
    let operator = start();
    await operator.waitForLog('the pause after two failures', pausedLine, 60_000);
    await operator.waitForLog(
      "the beat's warning naming the failures",
      (l) =>
        l.msg === 'task paused after failures in a row (spec.pauseAfterFailures); resume it to run again' &&
        l.failures === LIMIT &&
        l.exception === 'RuntimeError',
      10_000,
    );
    const atPause = (await failedRuns()).length;
    assert.ok(atPause >= LIMIT, `${atPause} runs failed before the pause`);
    const paused = await storedState();
    assert.equal(paused?.failures?.count, LIMIT, 'the count is in the run state in Redis');
    assert.equal(paused?.failures?.exception, 'RuntimeError');

    // No run while paused: the clock task keeps running, the failing one does not.
    await ticks(6);
    assert.equal((await failedRuns()).length, atPause, 'no run after the pause');

    // Another operator process takes over (standalone: the Redis lock): the pause is the run state's.
    await operator.stop();
    operator = start();
    await operator.waitForLog('the new process sees the pause', pausedLine, 30_000);
    await ticks(4);
    assert.equal((await failedRuns()).length, atPause, 'still no run after the takeover');

    // resume: the annotation in the manifest; the task runs again, and fails its way to a second pause after
    // exactly N more runs, since its count started over.
    const resume = spawnSync(
      process.execPath,
      [MAIN, 'resume', '--manifests', dir, 'fails', '-n', 'results'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(resume.status, 0, resume.stderr);
    assert.match(resume.stdout, /^results\/fails: resumed /);
    await worker.waitForExecutions((xs) => runsOf(xs, 'fails').length > atPause, 30_000);
    const resumed = await storedState();
    assert.ok(resumed?.resumedAt !== undefined, 'the resume is recorded in the run state');
    assert.ok((resumed?.pausedRunCount ?? 0) >= 3, 'the slots inside the pause are counted as paused');
    assert.equal(resumed?.missedRunCount, 0, 'not as missed');
    await operator.waitForLog(
      'paused again after N more failures',
      (l) => pausedLine(l) && operator.logs().filter(pausedLine).length >= 2,
      60_000,
    );
    const again = (await failedRuns()).length;
    assert.ok(again >= atPause + LIMIT, `the count started over: ${again - atPause} runs after the resume`);
    await ticks(4);
    assert.equal((await failedRuns()).length, again, 'no run after the second pause');
  } finally {
    for (const operator of operators) await operator.stop().catch(() => {});
    await worker.stop();
    redis.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
