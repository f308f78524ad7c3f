// PeriodicTaskPolicies on a real API server, with the chart's permissions, a real Redis and a real Celery
// worker: two namespaces under different policies. In team A a forbidden task name, queue, priority, header,
// argument size and interval are each Ready False/PolicyViolation naming the rule and the value, with a
// Warning Event and the metric, and none of them reaches the broker, while the complying task runs (carrying
// its namespace header); team B's policy allows what A's forbids. Editing a policy takes effect without a
// restart.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { type CeleryWorker, startCeleryWorker } from '../support/celery-worker.ts';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import { counterValue, type OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';

const POLICY_CRD = new URL('../../crds/celerybeat.io_periodictaskpolicies.yaml', import.meta.url);
const run = randomBytes(3).toString('hex');
const queueA = `e2e-policy-a-${run}`;
const queueB = `e2e-policy-b-${run}`;

let cluster: ClusterHandle;
let a: OperatorNamespace;
let b: OperatorNamespace;
let server: RedisServer;
let redis: Redis;
let worker: CeleryWorker;
const operators: OperatorProcess[] = [];

async function apply(manifest: unknown): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

function policy(name: string, team: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name: `${name}-${run}` },
    spec: { namespaceSelector: { matchLabels: { 'e2e-policy-team': `${team}-${run}` } }, ...spec },
  };
}

const POLICY_A = {
  allowedTaskNames: ['tasks.*'],
  deniedTaskNames: ['tasks.fail'],
  allowedQueues: [queueA],
  maxPriority: 3,
  allowedHeaders: ['trace_*'],
  maxArgsBytes: 100,
  minIntervalSeconds: 1,
};

async function getTask(ns: string, name: string): Promise<PeriodicTask> {
  return JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns, '-o', 'json'])) as PeriodicTask;
}

const readyOf = (task: PeriodicTask) => task.status?.conditions?.find((c) => c.type === 'Ready');

describe('PeriodicTaskPolicies on a real API server', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
      input: await readFile(POLICY_CRD, 'utf8'),
    });
    await cluster.crdEstablished('periodictaskpolicies.celerybeat.io');
    a = await operatorNamespace(cluster, 'e2e-policy-a');
    b = await operatorNamespace(cluster, 'e2e-policy-b');
    await cluster.kubectl(['label', 'namespace', a.namespace, `e2e-policy-team=a-${run}`]);
    await cluster.kubectl(['label', 'namespace', b.namespace, `e2e-policy-team=b-${run}`]);
    await apply(policy('team-a', 'a', POLICY_A));
    await apply(
      policy('team-b', 'b', { allowedTaskNames: ['tasks.add'], allowedQueues: [queueB], maxPriority: 9 }),
    );
    server = await startRedisServer();
    redis = new Redis(server.url);
    worker = await startCeleryWorker({ brokerUrl: server.url, queues: [queueA, queueB] });
    for (const ns of [a, b]) {
      const operator = startClusterOperator(ns, server.url);
      operators.push(operator);
      await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    }
  });

  after(async () => {
    await cluster
      ?.kubectl(['delete', 'periodictaskpolicies', `team-a-${run}`, `team-b-${run}`, '--ignore-not-found'])
      .catch(() => undefined);
    for (const operator of operators) await operator.stop();
    await worker?.stop();
    redis?.disconnect();
    await server?.stop();
  });

  test('forbidden name, queue, priority, header, size and interval: PolicyViolation, nothing sent; the rest runs', async () => {
    const every = { interval: { every: 1, period: 'seconds' } };
    const inA = (name: string, spec: Record<string, unknown>) =>
      cluster.kubectl(['apply', '-f', '-'], { input: periodicTask(a.namespace, name, spec) });
    await inA('complies', { ...every, options: { queue: queueA, priority: 3, headers: { trace_id: 't' } } });
    const forbidden: Record<string, [Record<string, unknown>, RegExp]> = {
      'bad-name': [
        { ...every, task: 'tasks.fail', options: { queue: queueA } },
        /team-a-\w+: task "tasks.fail" matches deniedTaskNames "tasks.fail"/,
      ],
      'bad-queue': [
        { ...every, options: { queue: queueB } },
        /queue "e2e-policy-b-\w+" is not in allowedQueues/,
      ],
      'bad-priority': [
        { ...every, options: { queue: queueA, priority: 5 } },
        /priority 5 is above maxPriority 3/,
      ],
      'bad-header': [
        { ...every, options: { queue: queueA, headers: { tenant: 'b' } } },
        /header "tenant" is not in allowedHeaders/,
      ],
      'bad-size': [
        { ...every, args: ['x'.repeat(200)], options: { queue: queueA } },
        /args are 204 bytes, above maxArgsBytes 100/,
      ],
      'bad-interval': [
        { interval: { every: 500_000, period: 'microseconds' }, options: { queue: queueA } },
        /runs can be 0.5 s apart, below minIntervalSeconds 1/,
      ],
    };
    for (const [name, [spec]] of Object.entries(forbidden)) await inA(name, spec);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(b.namespace, 'allowed-in-b', {
        ...every,
        task: 'tasks.add',
        args: [1, 2],
        options: { queue: queueB, priority: 5 },
      }),
    });

    for (const [name, [, message]] of Object.entries(forbidden)) {
      await waitUntil(
        `${name}: PolicyViolation`,
        async () => readyOf(await getTask(a.namespace, name))?.reason === 'PolicyViolation',
        30_000,
      );
      const ready = readyOf(await getTask(a.namespace, name));
      assert.equal(ready?.status, 'False');
      assert.match(ready?.message ?? '', message, name);
    }
    const runs = await worker.waitForExecutions((all) => {
      const ranA = all.filter((e) => e.request.periodic_task_name === `${a.namespace}/complies`).length;
      const ranB = all.filter((e) => e.request.periodic_task_name === `${b.namespace}/allowed-in-b`).length;
      return ranA >= 3 && ranB >= 3;
    }, 30_000);
    const complying = runs.find((e) => e.request.periodic_task_name === `${a.namespace}/complies`);
    assert.equal(complying?.request.periodic_task_namespace, a.namespace);
    assert.equal(readyOf(await getTask(b.namespace, 'allowed-in-b'))?.status, 'True');

    // Nothing of a forbidden task reached the broker: no run, nothing waiting in a queue, not even a key.
    const names = new Set(runs.map((e) => String(e.request.periodic_task_name)));
    for (const name of Object.keys(forbidden)) {
      assert.ok(!names.has(`${a.namespace}/${name}`), `${name} ran`);
      assert.equal(await redis.exists(`tasks:meta:${a.namespace}/${name}`), 0, `${name} has a key`);
    }
    for (const queue of [queueA, queueB]) {
      for (const raw of await redis.lrange(queue, 0, -1)) {
        const name = String(JSON.parse(raw).headers.periodic_task_name);
        assert.ok(name.endsWith('/complies') || name.endsWith('/allowed-in-b'), `${name} was queued`);
      }
    }
    const events = await cluster.kubectl([
      'get',
      'events.events.k8s.io',
      '-n',
      a.namespace,
      '--field-selector',
      'reason=PolicyViolation',
      '-o',
      'jsonpath={range .items[*]}{.regarding.name}{"\\n"}{end}',
    ]);
    assert.deepEqual(
      [...new Set(events.trim().split('\n'))].sort(),
      Object.keys(forbidden).sort(),
      'one Warning Event per forbidden task',
    );
    const metrics = await operators[0]!.metrics();
    assert.equal(
      counterValue(
        metrics,
        `celerybeat_policy_violations_total{task_namespace="${a.namespace}",mode="Enforce"}`,
      ),
      Object.keys(forbidden).length,
    );
  });

  test('a policy edit takes effect without a restart', async () => {
    await apply(policy('team-a', 'a', { ...POLICY_A, maxPriority: 9 }));
    await waitUntil(
      'bad-priority scheduled once priority 5 is allowed',
      async () => readyOf(await getTask(a.namespace, 'bad-priority'))?.status === 'True',
      30_000,
    );
    await worker.waitForExecutions(
      (all) => all.some((e) => e.request.periodic_task_name === `${a.namespace}/bad-priority`),
      30_000,
    );
    await apply(policy('team-a', 'a', { ...POLICY_A, maxPriority: 9, allowedQueues: ['nothing'] }));
    await waitUntil(
      'complies refused once its queue is no longer allowed',
      async () => readyOf(await getTask(a.namespace, 'complies'))?.reason === 'PolicyViolation',
      30_000,
    );
  });
});
