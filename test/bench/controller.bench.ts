// Controller figures on a real API server: N PeriodicTasks applied at once, time until every Redis key exists
// and until every status is written (status writes at --kube-api-qps).
//   node test/bench/controller.bench.ts [--count 1000] [--qps 200]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  applyManyTasks,
  operatorNamespace,
  startClusterOperator,
  tasksWithStatus,
} from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { startControlPlane } from '../testbed/cluster.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000' }, qps: { type: 'string', default: '200' } },
});
const count = Number(values.count);
const cluster = await startControlPlane();
const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const ns = await operatorNamespace(cluster, 'bench');
  const operator = startClusterOperator(ns, server.url, [
    '--kube-api-qps',
    values.qps,
    '--kube-api-burst',
    String(2 * Number(values.qps)),
  ]);
  try {
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    const start = Date.now();
    await applyManyTasks(cluster, ns.namespace, count);
    const applied = Date.now() - start;
    await waitUntil(
      'keys',
      async () => (await redis.keys(`tasks:meta:${ns.namespace}/*`)).length === count,
      300_000,
      100,
    );
    const keys = Date.now() - start;
    await waitUntil(
      'statuses',
      async () => (await tasksWithStatus(cluster, ns.namespace)) === count,
      600_000,
      500,
    );
    const statuses = Date.now() - start;
    process.stdout.write(
      `${[
        `Controller: ${count} PeriodicTasks applied at once (one kubectl apply), operator with --kube-api-qps ${values.qps}`,
        '',
        '| step | seconds after the apply started |',
        '| --- | ---: |',
        `| kubectl apply returned | ${(applied / 1000).toFixed(1)} |`,
        `| every Redis key written | ${(keys / 1000).toFixed(1)} |`,
        `| every status written | ${(statuses / 1000).toFixed(1)} |`,
      ].join('\n')}\n`,
    );
  } finally {
    await operator.stop();
  }
} finally {
  redis.disconnect();
  await server.stop();
  await cluster.stop();
}
