// Two operators in one namespace, each with its own Lease (`--lease-name`), in a namespace of their choosing
// (`--lease-namespace`): both lead at once, each over its own key prefix, and each is named on the Redis after
// its Lease. With one Lease name they would share one leader.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';

let cluster: ClusterHandle;
let ns: OperatorNamespace;
let leases: string;
let server: RedisServer;
const operators: OperatorProcess[] = [];

async function holder(name: string): Promise<string> {
  return cluster
    .kubectl(['get', 'lease', name, '-n', leases, '-o', 'jsonpath={.spec.holderIdentity}'])
    .catch(() => '');
}

describe('--lease-name and --lease-namespace', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'lease-name');
    leases = `${ns.namespace}-leases`;
    await cluster.kubectl(['create', 'namespace', leases]);
    // What the chart grants for leaderElection.leaseName and leaderElection.namespace: these two Leases only.
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'Role',
            metadata: { name: 'leases', namespace: leases },
            rules: [
              { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
              {
                apiGroups: ['coordination.k8s.io'],
                resources: ['leases'],
                resourceNames: ['beat-a', 'beat-b'],
                verbs: ['get', 'update'],
              },
            ],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: 'leases', namespace: leases },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
            subjects: [{ kind: 'ServiceAccount', name: 'celerybeat-operator', namespace: ns.namespace }],
          },
        ],
      }),
    });
    server = await startRedisServer();
  });

  after(async () => {
    for (const operator of operators) await operator.stop();
    await server?.stop();
  });

  test('two operators in one namespace, each leading through its own Lease', async () => {
    await cluster.kubectl(['apply', '-f', '-'], {
      input: periodicTask(ns.namespace, 'every-second', { interval: { every: 1, period: 'seconds' } }),
    });
    for (const name of ['beat-a', 'beat-b']) {
      const operator = startClusterOperator(ns, server.url, [
        '--lease-name',
        name,
        '--lease-namespace',
        leases,
        '--key-prefix',
        `${name}:`,
      ]);
      operators.push(operator);
    }
    for (const operator of operators)
      await operator.waitForLog('became leader', (l) => l.msg === 'became leader', 30_000);
    const [a, b] = [await holder('beat-a'), await holder('beat-b')];
    assert.ok(a && b && a !== b, `each Lease has its own holder: ${a}, ${b}`);
    await assert.rejects(
      cluster.kubectl(['get', 'lease', 'celerybeat-operator', '-n', ns.namespace]),
      'no Lease of the default name in the pod namespace',
    );

    const redis = new Redis(server.url);
    try {
      // Each operator is named after its Lease, and each runs the task into its own keys.
      const registered = await redis.hkeys('celerybeat-operator:operators');
      assert.deepEqual(registered.sort(), [`${leases}/beat-a`, `${leases}/beat-b`]);
      await waitUntil(
        'both operators run the task',
        async () => {
          const counts = await Promise.all(
            ['beat-a', 'beat-b'].map(async (name) => {
              const value = await redis.get(`${name}:${ns.namespace}/every-second`);
              return value ? Number((JSON.parse(value) as { total_run_count?: number }).total_run_count) : 0;
            }),
          );
          return counts.every((n) => n >= 2);
        },
        20_000,
      );
    } finally {
      redis.disconnect();
    }
  });
});
