// A broker per team on a real API server, with the chart's permissions, a real Redis and real Celery workers.
// One operator serves two namespaces under different policies: team A's names no broker (its runs go to the
// operator's own, database 0), team B's names a Secret in the operator's namespace holding a second
// database of the same Redis server. Until that Secret exists, B's task is Ready
// False/BrokerSecretUnavailable naming the Secret and key, and nothing of it is published anywhere; once the
// Secret is created, with no restart, B's runs go to B's broker and only there, while A's stay on A's.
// Each worker consumes the same queue name on its own database: isolation comes from the broker alone. The same
// holds for a RabbitMQ virtual host named by a team's Secret.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { startCeleryWorker } from '../support/celery-worker.ts';
import { operatorNamespace, periodicTask } from '../support/operator-cluster.ts';
import { startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { createVhost, deleteQueues, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { type ClusterHandle, startControlPlane } from '../testbed/cluster.ts';

const POLICY_CRD = new URL('../../crds/celerybeat.io_periodictaskpolicies.yaml', import.meta.url);
const QUEUE = 'team-work';

async function getTask(cluster: ClusterHandle, ns: string, name: string): Promise<PeriodicTask> {
  return JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns, '-o', 'json'])) as PeriodicTask;
}

const readyOf = (task: PeriodicTask) => task.status?.conditions?.find((c) => c.type === 'Ready');

/** The policy CRD, the operator's namespace (with the chart's RBAC) and a namespace per team, `<prefix>-<team>-<suffix>`. */
async function teamNamespaces(cluster: ClusterHandle, prefix: string, teams: readonly [string, string]) {
  await cluster.kubectl(['apply', '--server-side', '-f', '-'], { input: await readFile(POLICY_CRD, 'utf8') });
  await cluster.crdEstablished('periodictaskpolicies.celerybeat.io');
  const op = await operatorNamespace(cluster, `${prefix}-operator`);
  const suffix = op.namespace.slice(-6);
  const names = [`${prefix}-${teams[0]}-${suffix}`, `${prefix}-${teams[1]}-${suffix}`] as const;
  for (const ns of names) await cluster.kubectl(['create', 'namespace', ns]);
  return { op, suffix, names };
}

/** A PeriodicTaskPolicy for one namespace. */
function policy(name: string, ns: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, ...spec },
  };
}

/** An every-second task in each namespace, on `queue`. */
async function everySecond(
  cluster: ClusterHandle,
  namespaces: readonly string[],
  queue: string,
): Promise<void> {
  for (const ns of namespaces) {
    await cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(ns, 'every-second', {
        interval: { every: 1, period: 'seconds' },
        options: { queue },
      }),
    });
  }
}

const ranIn = (ns: string) => (all: { request: Record<string, unknown> }[]) =>
  all.filter((e) => e.request.periodic_task_namespace === ns).length;

test("team B's runs go only to team B's broker, named by a Secret; a missing Secret is reported, then runs start", {
  timeout: 300_000,
}, async () => {
  // A control plane of its own: the operator watches every namespace.
  const cluster = await startControlPlane();
  const server = await startRedisServer();
  const brokerA = new Redis(`${server.url}/0`);
  const brokerB = new Redis(`${server.url}/1`);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const {
      op,
      suffix,
      names: [teamA, teamB],
    } = await teamNamespaces(cluster, 'tb', ['a', 'b']);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          policy(`team-a-${suffix}`, teamA, { allowedQueues: [QUEUE] }),
          policy(`team-b-${suffix}`, teamB, {
            allowedQueues: [QUEUE],
            broker: { secretKeyRef: { name: 'team-b-broker', key: 'url' } },
          }),
        ],
      }),
    });
    await everySecond(cluster, [teamA, teamB], QUEUE);
    const workerA = await startCeleryWorker({ brokerUrl: `${server.url}/0`, queues: [QUEUE] });
    stops.push(() => workerA.stop());
    const workerB = await startCeleryWorker({ brokerUrl: `${server.url}/1`, queues: [QUEUE] });
    stops.push(() => workerB.stop());
    const operator = startOperator(['--kubeconfig', op.kubeconfig, '--redis-url', `${server.url}/0`], {
      POD_NAMESPACE: op.namespace,
    });
    stops.push(() => operator.stop());
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 60_000);
    await workerA.waitForExecutions((all) => ranIn(teamA)(all) >= 2, 30_000);
    await waitUntil(
      'team B held back for its missing Secret',
      async () =>
        readyOf(await getTask(cluster, teamB, 'every-second'))?.reason === 'BrokerSecretUnavailable',
      30_000,
    );
    const held = readyOf(await getTask(cluster, teamB, 'every-second'));
    assert.equal(held?.status, 'False');
    assert.equal(
      held?.message,
      `the broker of PeriodicTaskPolicy team-b-${suffix} (Secret team-b-broker key url) cannot be used: Secret ${op.namespace}/team-b-broker does not exist`,
    );
    const events = await cluster.kubectl([
      'get',
      'events.events.k8s.io',
      '-n',
      teamB,
      '--field-selector',
      'reason=BrokerSecretUnavailable',
      '-o',
      'name',
    ]);
    assert.notEqual(events.trim(), '', 'a Warning Event');
    // Nothing of team B went anywhere meanwhile: neither worker ran it, neither database holds it.
    const queuedFrom = async (broker: Redis) =>
      (await broker.lrange(QUEUE, 0, -1)).map((raw) =>
        String(JSON.parse(raw).headers.periodic_task_namespace),
      );
    assert.equal(ranIn(teamB)(await workerA.executions()), 0);
    assert.equal(ranIn(teamB)(await workerB.executions()), 0);
    assert.ok(!(await queuedFrom(brokerA)).includes(teamB));
    assert.ok(!(await queuedFrom(brokerB)).includes(teamB));

    // The Secret appears in the operator's namespace: B's runs start, on B's broker, with no restart.
    await cluster.kubectl([
      'create',
      'secret',
      'generic',
      'team-b-broker',
      '-n',
      op.namespace,
      `--from-literal=url=${server.url}/1`,
    ]);
    await waitUntil(
      'team B scheduled',
      async () => readyOf(await getTask(cluster, teamB, 'every-second'))?.status === 'True',
      30_000,
    );
    await workerB.waitForExecutions((all) => ranIn(teamB)(all) >= 3, 30_000);
    const runsA = await workerA.waitForExecutions((all) => ranIn(teamA)(all) >= 5, 30_000);
    const runsB = await workerB.executions();
    assert.equal(ranIn(teamB)(runsA), 0, "team B's runs never reach team A's broker");
    assert.equal(ranIn(teamA)(runsB), 0, "team A's runs never reach team B's broker");
    for (const e of runsB) assert.equal(e.request.periodic_task_name, `${teamB}/every-second`);
    assert.ok(!(await queuedFrom(brokerA)).includes(teamB));
    assert.ok(!(await queuedFrom(brokerB)).includes(teamA));
    // A database of the store's own server: claim and message in one atomic step, as for the default broker.
    const opened = operator.logs().filter((l) => l.msg === 'broker line opened');
    assert.equal(opened.length, 1, 'one connection for the broker');
    assert.equal(opened[0]?.atomic, true);
    assert.equal(operator.process.hasExited(), false);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    brokerA.disconnect();
    brokerB.disconnect();
    await server.stop();
    await cluster.stop();
  }
});

test("a RabbitMQ vhost per team: team C's runs reach only the vhost its Secret names, not the default vhost's same queue", {
  timeout: 300_000,
}, async () => {
  const cluster = await startControlPlane();
  const server = await startRedisServer();
  const vhost = await createVhost('team-c');
  // One queue name everywhere: on the default vhost, on the team's vhost and on the operator's own broker.
  const queue = uniqueQueueName('team-work');
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const {
      op,
      suffix,
      names: [teamA, teamC],
    } = await teamNamespaces(cluster, 'tv', ['a', 'c']);
    await cluster.kubectl([
      'create',
      'secret',
      'generic',
      'team-c-broker',
      '-n',
      op.namespace,
      `--from-literal=url=${vhost.url}`,
    ]);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify(
        policy(`team-c-${suffix}`, teamC, {
          broker: { secretKeyRef: { name: 'team-c-broker', key: 'url' } },
        }),
      ),
    });
    await everySecond(cluster, [teamA, teamC], queue);
    stops.push(() => deleteQueues([queue]));
    const own = await startCeleryWorker({ brokerUrl: `${server.url}/0`, queues: [queue] });
    stops.push(() => own.stop());
    const teamWorker = await startCeleryWorker({ brokerUrl: vhost.url, queues: [queue] });
    stops.push(() => teamWorker.stop());
    const defaultVhost = await startCeleryWorker({ brokerUrl: RABBITMQ_URL, queues: [queue] });
    stops.push(() => defaultVhost.stop());
    const operator = startOperator(['--kubeconfig', op.kubeconfig, '--redis-url', `${server.url}/0`], {
      POD_NAMESPACE: op.namespace,
    });
    stops.push(() => operator.stop());
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 60_000);
    const runsC = await teamWorker.waitForExecutions((all) => ranIn(teamC)(all) >= 3, 60_000);
    const runsA = await own.waitForExecutions((all) => ranIn(teamA)(all) >= 3, 30_000);
    assert.equal(ranIn(teamA)(runsC), 0, "team A's runs never reach team C's vhost");
    assert.equal(ranIn(teamC)(runsA), 0, "team C's runs never reach the operator's own broker");
    for (const e of runsC) assert.equal(e.request.periodic_task_name, `${teamC}/every-second`);
    assert.deepEqual(
      await defaultVhost.executions(),
      [],
      'the same queue name on the default vhost got nothing',
    );
    const opened = operator.logs().filter((l) => l.msg === 'broker line opened');
    assert.equal(opened.length, 1, 'one connection for the team broker');
    assert.equal(opened[0]?.atomic, false, 'another server: claim, then publish');
    assert.equal(String(opened[0]?.broker).includes('guest:guest'), false, 'the password is not logged');
    assert.equal(
      readyOf(await getTask(cluster, teamC, 'every-second'))?.status,
      'True',
      "team C's task is Ready",
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await vhost.remove().catch(() => undefined);
    await server.stop();
    await cluster.stop();
  }
});
