// A dispatch that fails for the whole loop is shown: in each task's Ready condition, in a metric, and in
// /healthz when the process is stuck while Redis answers. Real operator, real Redis, real time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { counterValue, type OperatorProcess, startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

interface Ready {
  status: string;
  reason: string;
  message: string;
}

/** The index of the first status line of `name` after `from` whose Ready matches, or -1. */
function statusLine(
  operator: OperatorProcess,
  name: string,
  match: (ready: Ready) => boolean,
  from = 0,
): number {
  return operator
    .logs()
    .findIndex((l, i) => i >= from && l.msg === 'task status' && l.name === name && match(l.ready as Ready));
}

async function withRig(
  names: string[],
  flags: string[],
  body: (rig: {
    server: RedisServer;
    redis: Redis;
    operator: OperatorProcess;
    dir: ManifestDir;
  }) => Promise<void>,
): Promise<void> {
  const server = await startRedisServer();
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const dir = await manifestDir();
  for (const name of names)
    await dir.write(`${name}.yaml`, intervalTask(name, 1, { options: { queue: name } }));
  const operator = startOperator(['--manifests', dir.path, '--redis-url', server.url, ...flags]);
  try {
    for (const name of names)
      await operator.waitForLog(`${name} sent`, (l) => l.msg === 'task sent' && l.name === name);
    await body({ server, redis, operator, dir });
  } finally {
    await operator.stop();
    redis.disconnect();
    await server.stop();
    await dir.remove();
  }
}

test('Redis out of memory under noeviction: Ready False/StoreUnavailable quoting OOM, counted, /healthz fails after the stall timeout, all back once memory is freed', () =>
  withRig(
    ['oom-a', 'oom-b'],
    ['--leader-elect', 'none', '--dispatch-stall-timeout', '3'],
    async ({ redis, operator }) => {
      assert.equal((await operator.probe('/healthz')).status, 200);
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await redis.config('SET', 'maxmemory', '1');
      for (const name of ['oom-a', 'oom-b']) {
        await operator.waitForLog(
          `${name} Ready False/StoreUnavailable quoting OOM`,
          () =>
            statusLine(
              operator,
              name,
              (r) => r.status === 'False' && r.reason === 'StoreUnavailable' && /OOM/.test(r.message),
            ) >= 0,
          10_000,
        );
      }
      const failed = counterValue(
        await operator.metrics(),
        'celerybeat_dispatches_total{result="store_unavailable"}',
      );
      assert.ok(failed >= 2, `the slots Redis refused are counted as store_unavailable (${failed})`);
      await waitUntil(
        '/healthz fails: Redis answers PING but nothing is dispatched',
        async () => {
          const { status, body } = await operator.probe('/healthz');
          return status === 500 && /dispatch/.test(body) && /OOM/.test(body);
        },
        15_000,
        200,
      );

      const mark = operator.logs().length;
      const queued = await redis.llen('oom-a');
      await redis.config('SET', 'maxmemory', '0');
      for (const name of ['oom-a', 'oom-b']) {
        await operator.waitForLog(
          `${name} Ready True again`,
          () => statusLine(operator, name, (r) => r.status === 'True' && r.reason === 'Scheduled', mark) >= 0,
          10_000,
        );
      }
      await waitUntil('runs go on', async () => (await redis.llen('oom-a')) >= queued + 2, 10_000);
      await waitUntil(
        '/healthz passes again',
        async () => (await operator.probe('/healthz')).status === 200,
        10_000,
      );
      const notices = operator
        .logs()
        .filter((l) => l.msg === 'task status' && l.name === 'oom-a')
        .slice(0, -1);
      const storeNotices = notices.filter((l) => (l.ready as Ready).reason === 'StoreUnavailable');
      assert.equal(storeNotices.length, 1, 'the same failure is reported once per task, not once per retry');
    },
  ));

test('/healthz stays 200 while Redis is down: a restart would not bring it back', () =>
  withRig(
    ['down'],
    ['--leader-elect', 'none', '--dispatch-stall-timeout', '2'],
    async ({ server, operator }) => {
      await server.stop();
      await operator.waitForLog(
        'Ready False/StoreUnavailable',
        () =>
          statusLine(operator, 'down', (r) => r.status === 'False' && r.reason === 'StoreUnavailable') >= 0,
        15_000,
      );
      const failures = (): number[] =>
        operator
          .logs()
          .filter((l) => l.msg === 'dispatch failed, retrying')
          .map((l) => Date.parse(String(l.time)));
      await waitUntil(
        'dispatches failing for longer than the stall timeout',
        () => {
          const times = failures();
          return times.length > 1 && times.at(-1)! - times[0]! > 3000;
        },
        20_000,
      );
      const { status, body } = await operator.probe('/healthz?verbose');
      assert.equal(status, 200, body);
      assert.match(body, /\[\+\]dispatch ok/);
    },
  ));
