// The operator on a real six-node Redis Cluster (three masters, three replicas): task keys under a
// hash-tagged prefix live in one slot, so each dispatch script call touches one node. Runs go to a separate
// Redis broker with Celery's own key names. The master of the prefix's slot is SIGKILLed: a replica takes
// over and the runs carry on, with no slot published twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisClusterSet, startRedisCluster } from '../../support/redis-cluster.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

const PREFIX = '{celerybeat}:tasks:meta:';
let cluster: RedisClusterSet;
let broker: RedisServer;
let brokerClient: Redis;
let dir: ManifestDir;

before(async () => {
  [cluster, broker, dir] = await Promise.all([startRedisCluster(), startRedisServer(), manifestDir()]);
  brokerClient = new Redis(`${broker.url}/0`);
});

after(async () => {
  brokerClient?.disconnect();
  await dir?.remove();
  await broker?.stop();
  await cluster?.stop();
});

function slotsOf(raw: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of raw) {
    const h = (JSON.parse(r) as { headers: Record<string, string> }).headers;
    const id = `${h.periodic_task_name}@${h.periodic_task_scheduled_at}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

test('tasks run from a Redis Cluster, and a master failover is survived without a slot published twice', async () => {
  const tasks = Array.from({ length: 20 }, (_, i) => intervalTask(`c${i}`, 1));
  await dir.write('tasks.yaml', ...tasks);
  const operator = startOperator([
    '--manifests',
    dir.path,
    '--redis-cluster',
    '--redis-url',
    cluster.url,
    '--key-prefix',
    PREFIX,
    '--broker-url',
    `${broker.url}/0`,
    '--log-level',
    'info',
  ]);
  try {
    await operator.waitForLog('broker connected', (l) => l.msg === 'broker connected', 20_000);
    // Celery's own list name on the broker; two runs of every task.
    await waitUntil('two runs of each task', async () => (await brokerClient.llen('celery')) >= 40, 20_000);
    const reader = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      // Forty messages on the broker are two runs on average, not necessarily one of c0 yet.
      const runsOfC0 = async () =>
        Number(
          (JSON.parse((await reader.get(`${PREFIX}default/c0`)) ?? '{}') as Record<string, unknown>)
            .total_run_count ?? 0,
        );
      await waitUntil('the run is recorded in the cluster', async () => (await runsOfC0()) >= 1, 10_000);
    } finally {
      reader.disconnect();
    }
    const key = `${PREFIX}default/c0`;
    const oldMaster = await cluster.masterOf(key);
    await cluster.kill(oldMaster);
    const before = await brokerClient.llen('celery');
    const newMaster = await cluster.waitForFailover(key, oldMaster, 30_000);
    assert.notEqual(newMaster, oldMaster);
    // The promoted master has no replica: its claims wait out the 30 s grace after a replica was last seen
    // (durable claims, auto) before they go without WAIT, so the runs resume about 30 s after the kill.
    await waitUntil(
      'three more runs of every task after the failover',
      async () => (await brokerClient.llen('celery')) >= before + 60,
      60_000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${operator.process.output().slice(-4000)}`);
  } finally {
    await operator.stop();
  }
  const counts = slotsOf(await brokerClient.lrange('celery', 0, -1));
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'no slot published twice');
  assert.equal(new Set([...counts.keys()].map((k) => k.split('@')[0])).size, 20, 'every task ran');
});
