// The Lease epoch fences a leader cut off from the API server but not from Redis: leader A reaches the API
// server through a TCP relay that is frozen, standby B takes the Lease and records its epoch, and tasks are
// deleted and paused through the API server. A's stale cache would keep dispatching them and re-create the
// deleted key; the fence refuses its writes from the takeover on, and A steps down within one retry period.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import {
  apiServerPort,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
  throughPort,
} from '../support/operator-cluster.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { tcpRelay } from '../support/tcp-relay.ts';
import { sharedCluster } from '../testbed/cluster.ts';

/** Short Lease timings keep the test quick; the hold-over limit is long, so only the fence can stop A. */
const RETRY_PERIOD_MS = 1000;
const TIMINGS = ['--lease-duration', '4', '--renew-deadline', '3', '--retry-period', '1'];

const timeOf = (line: Record<string, unknown>): number => Date.parse(String(line.time));

test('a leader cut off from the API server is fenced as soon as a standby takes over', {
  timeout: 180_000,
}, async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'e2e-fence');
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const queue = 'lease-fence';
  const prefix = 'tasks:meta:';
  const apiPort = await apiServerPort(ns.kubeconfig);
  const relay = await tcpRelay(apiPort);
  const every = { interval: { every: 1, period: 'seconds' }, options: { queue } };
  const names = ['doomed', 'halted', 'survivor'];
  const runsOf = async (name: string): Promise<number> =>
    (await redis.lrange(queue, 0, -1)).filter(
      (raw) => JSON.parse(raw).headers.periodic_task_name === `${ns.namespace}/${name}`,
    ).length;
  const a = startClusterOperator(
    { ...ns, kubeconfig: await throughPort(ns.kubeconfig, relay.port) },
    server.url,
    [...TIMINGS, '--hold-over-limit', '600'],
  );
  let b: OperatorProcess | undefined;
  try {
    for (const name of names) {
      await cluster.kubectl(['apply', '-f', '-'], { input: periodicTask(ns.namespace, name, every) });
    }
    await a.waitForLog('A leads', (l) => l.msg === 'became leader', 30_000);
    // Started once A leads, so that B is the standby.
    b = startClusterOperator(ns, server.url, TIMINGS);
    for (const name of names) {
      await waitUntil(`A runs ${name}`, async () => (await runsOf(name)) >= 2, 20_000);
    }
    assert.ok(!b.logs().some((l) => l.msg === 'became leader'), 'B stands by');

    relay.freeze();
    await b.waitForLog('B takes over', (l) => l.msg === 'leader epoch recorded in Redis', 30_000);
    const takeover = b.logs().find((l) => l.msg === 'leader epoch recorded in Redis')!;
    // B reads the changes at once; A's watch is behind the frozen relay and sees none of them.
    await cluster.kubectl(['delete', 'pt', 'doomed', '-n', ns.namespace]);
    await cluster.kubectl([
      'patch',
      'pt',
      'halted',
      '-n',
      ns.namespace,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { pause: { reason: 'fence test' } } }),
    ]);
    await waitUntil(
      'B deletes the key',
      async () => (await redis.exists(`${prefix}${ns.namespace}/doomed`)) === 0,
      10_000,
    );
    await waitUntil(
      'B pauses the task',
      async () => {
        const task = JSON.parse(
          await cluster.kubectl(['get', 'pt', 'halted', '-n', ns.namespace, '-o', 'json']),
        );
        return (
          task.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.reason === 'Paused'
        );
      },
      15_000,
    );

    // A stepped down within one retry period of B's takeover, not by its hold-over limit.
    await waitUntil(
      'A steps down',
      async () => a.logs().some((l) => l.msg === 'this replica no longer leads'),
      10_000,
    );
    const stepDown = a.logs().find((l) => l.msg === 'this replica no longer leads')!;
    assert.match(String(stepDown.reason), /another replica took over/);
    const late = timeOf(stepDown) - timeOf(takeover);
    assert.ok(late <= RETRY_PERIOD_MS + 500, `A stepped down ${late} ms after the takeover`);

    const before = {
      doomed: await runsOf('doomed'),
      halted: await runsOf('halted'),
      survivor: await runsOf('survivor'),
    };
    const watchUntil = Date.now() + 6000;
    while (Date.now() < watchUntil) {
      assert.equal(
        await redis.exists(`${prefix}${ns.namespace}/doomed`),
        0,
        'the deleted key is never re-created',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(await runsOf('doomed'), before.doomed, 'the deleted task does not run');
    assert.equal(await runsOf('halted'), before.halted, 'the paused task does not run');
    assert.ok((await runsOf('survivor')) >= before.survivor + 4, 'B runs the remaining task');
  } finally {
    relay.thaw();
    await a.stop().catch(() => {});
    await b?.stop();
    await relay.close();
    redis.disconnect();
    await server.stop();
  }
});
