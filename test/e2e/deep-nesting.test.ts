// A PeriodicTask whose args nest as deep as the API server lets them, next to ordinary tasks in its namespace
// and another: the operator (watching every namespace, on a control plane of its own so that it writes no
// other test's status) lists and watches it without harm, reports it InvalidSpec alone, runs the others, and
// starts again with it present.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { operatorNamespace, periodicTask } from '../support/operator-cluster.ts';
import { counterValue, type OperatorProcess, startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import type { ClusterHandle } from '../testbed/cluster.ts';
import { startControlPlane } from '../testbed/cluster.ts';

/**
 * The deepest nesting the API server accepts in a PeriodicTask's args: its JSON decoder refuses a request body
 * nested deeper than 10,000 levels ("exceeded max depth"), and the object and its spec take 2 of them.
 */
const DEEPEST_ARGS = 9_998;
const QUEUE = 'deep-nesting';
const INVALID = 'spec.args: Invalid value: args is nested deeper than 100 levels (or is circular)';

function deepTask(namespace: string, name: string, depth: number): string {
  return JSON.stringify({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace },
    spec: { task: 'tasks.record', interval: { every: 1, period: 'seconds' }, args: '@ARGS@' },
  }).replace('"@ARGS@"', `${'['.repeat(depth)}${']'.repeat(depth)}`);
}

/** POSTs the object as it is (kubectl apply would decode and re-encode it with limits of its own). */
async function createRaw(cluster: ClusterHandle, namespace: string, body: string): Promise<void> {
  const file = join(cluster.dir, `deep-${namespace}-${body.length}.json`);
  await writeFile(file, body);
  await cluster.kubectl([
    'create',
    '--raw',
    `/apis/celerybeat.io/v1alpha1/namespaces/${namespace}/periodictasks`,
    '-f',
    file,
  ]);
}

async function getTask(cluster: ClusterHandle, namespace: string, name: string): Promise<PeriodicTask> {
  return JSON.parse(
    await cluster.kubectl(['get', 'pt', name, '-n', namespace, '-o', 'json']),
  ) as PeriodicTask;
}

const readyOf = (task: PeriodicTask) => task.status?.conditions?.find((c) => c.type === 'Ready');

async function readyz(operator: OperatorProcess): Promise<number> {
  const port = operator.logs().find((l) => typeof l.healthPort === 'number')?.healthPort;
  if (port === undefined) return 0;
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

test('a task nested as deep as the API server allows is InvalidSpec alone; every other task runs', {
  timeout: 300_000,
}, async () => {
  const cluster = await startControlPlane();
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const runsOf = async (namespace: string, name: string): Promise<number> =>
    (await redis.lrange(QUEUE, 0, -1)).filter(
      (raw) => JSON.parse(raw).headers.periodic_task_name === `${namespace}/${name}`,
    ).length;
  const operators: OperatorProcess[] = [];
  try {
    // Every namespace: the Lease in the operator's own, RBAC as the chart gives it.
    const a = await operatorNamespace(cluster, 'deep-a');
    const b = `deep-b-${a.namespace.slice(-6)}`;
    const start = (): OperatorProcess => {
      const operator = startOperator(['--kubeconfig', a.kubeconfig, '--redis-url', server.url], {
        POD_NAMESPACE: a.namespace,
      });
      operators.push(operator);
      return operator;
    };
    await cluster.kubectl(['create', 'namespace', b]);
    // The limit this test relies on: one level more is refused by the API server itself.
    await assert.rejects(
      createRaw(cluster, b, deepTask(b, 'deeper-than-allowed', DEEPEST_ARGS + 1)),
      /max depth/,
    );
    for (const namespace of [a.namespace, b]) {
      await cluster.kubectl(['apply', '-f', '-'], {
        input: periodicTask(namespace, 'ordinary', {
          interval: { every: 1, period: 'seconds' },
          options: { queue: QUEUE },
        }),
      });
    }
    // Present at the first list.
    await createRaw(cluster, b, deepTask(b, 'deep-listed', DEEPEST_ARGS));
    const stored = await getTask(cluster, b, 'deep-listed');
    let depth = 0;
    for (let v: unknown = stored.spec.args; Array.isArray(v); v = v[0]) depth += 1;
    assert.equal(depth, DEEPEST_ARGS, 'the API server keeps the whole nesting');

    const operator = start();
    await operator.waitForLog('synced', (l) => l.msg === 'PeriodicTask cache synced', 60_000);
    // Arrives through the watch.
    await createRaw(cluster, a.namespace, deepTask(a.namespace, 'deep-watched', DEEPEST_ARGS));
    for (const namespace of [a.namespace, b]) {
      await waitUntil('ordinary tasks run', async () => (await runsOf(namespace, 'ordinary')) >= 3, 30_000);
    }
    for (const [namespace, name] of [
      [b, 'deep-listed'],
      [a.namespace, 'deep-watched'],
    ] as const) {
      await waitUntil(
        `${namespace}/${name} Ready False/InvalidSpec`,
        async () => readyOf(await getTask(cluster, namespace, name))?.reason === 'InvalidSpec',
        30_000,
      );
      const ready = readyOf(await getTask(cluster, namespace, name));
      assert.equal(ready?.status, 'False');
      assert.equal(ready?.message, INVALID);
      assert.equal(await redis.exists(`tasks:meta:${namespace}/${name}`), 0, 'an invalid task gets no key');
    }
    const ordinary = await getTask(cluster, b, 'ordinary');
    assert.equal(readyOf(ordinary)?.reason, 'Scheduled');
    assert.ok((ordinary.status?.totalRunCount ?? 0) >= 1, 'the status shows runs');
    assert.equal(operator.process.hasExited(), false);
    assert.equal(await readyz(operator), 200);
    assert.equal(counterValue(await operator.metrics(), 'celerybeat_internal_errors_total'), 0);

    // A restart lists both deep objects at once, and goes on.
    await operator.stop();
    const restarted = start();
    await restarted.waitForLog('synced', (l) => l.msg === 'PeriodicTask cache synced', 60_000);
    const before = await runsOf(b, 'ordinary');
    await waitUntil(
      'runs after the restart',
      async () => (await runsOf(b, 'ordinary')) >= before + 2,
      30_000,
    );
    await waitUntil('/readyz 200 after the restart', async () => (await readyz(restarted)) === 200, 30_000);
    assert.equal(readyOf(await getTask(cluster, a.namespace, 'deep-watched'))?.message, INVALID);
    assert.equal(counterValue(await restarted.metrics(), 'celerybeat_internal_errors_total'), 0);
  } finally {
    for (const operator of operators) await operator.stop();
    redis.disconnect();
    await server.stop();
    await cluster.stop();
  }
});
