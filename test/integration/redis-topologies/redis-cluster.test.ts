// The operator on a real six-node Redis Cluster (three masters, three replicas): task keys under a
// hash-tagged prefix live in one slot, so each dispatch script call touches one node. Runs go to a separate
// Redis broker with Celery's own key names. The master of the prefix's slot is SIGKILLed: a replica takes
// over and the runs carry on, with no slot published twice. A run-now's claim (its manual-run record, in the
// same slot) goes through the same script and is sent once.
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
  let killed = -1;
  let before = 0;
  /** The tasks none of whose runs is among these messages. */
  const notRunSince = (raw: string[]): string[] => {
    const ran = new Set([...slotsOf(raw).keys()].map((k) => k.split('@')[0]));
    return tasks.map((_, i) => `default/c${i}`).filter((name) => !ran.has(name));
  };
  /** The tasks not run since the kill: what the store holds of them, and the operator's lines of them. */
  const diagnose = async (): Promise<string> => {
    const never = notRunSince(await brokerClient.lrange('celery', before, -1));
    if (never.length === 0) return operator.process.output().slice(-4000);
    const reader = new Cluster([{ host: '127.0.0.1', port: cluster.ports.find((p) => p !== killed)! }]);
    const stored = await Promise.all(never.map((name) => reader.get(`${PREFIX}${name}`).catch(String)));
    reader.disconnect();
    const names = new Set(never.map((n) => n.split('/')[1]));
    const lines = operator.process
      .output()
      .split('\n')
      .filter((line) => {
        const parsed = JSON.parse(line.startsWith('{') ? line : '{}') as { name?: string; level?: string };
        return names.has(parsed.name ?? '') || parsed.level === 'warn' || parsed.level === 'error';
      });
    return `not run since the kill: ${never.join(', ')}\nstored: ${stored.join('\n')}\ntheir lines and warnings:\n${lines.join('\n').slice(-8000)}`;
  };
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
    killed = oldMaster;
    await cluster.kill(oldMaster);
    before = await brokerClient.llen('celery');
    const newMaster = await cluster.waitForFailover(key, oldMaster, 30_000);
    assert.notEqual(newMaster, oldMaster);
    // The promoted master has no replica: its claims wait out the 30 s grace after a replica was last seen
    // (durable claims, auto) before they go without WAIT, so the runs resume about 30 s after the kill, each
    // task after its own retry backoff (at most 10 s).
    await waitUntil(
      'every task run again after the failover',
      async () => notRunSince(await brokerClient.lrange('celery', before, -1)).length === 0,
      70_000,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await diagnose()}`);
  } finally {
    await operator.stop();
  }
  const counts = slotsOf(await brokerClient.lrange('celery', 0, -1));
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'no slot published twice');
});

test('run-now on a Redis Cluster: claimed in the prefix hash slot with the same script, sent once across a restart', async () => {
  const own = await manifestDir();
  const queue = 'cluster-run-now';
  const annotations = { 'celerybeat.io/run-now': 'tok-1' };
  const hourly = intervalTask('hourly', 3600, { options: { queue } });
  await own.write('hourly.yaml', {
    ...hourly,
    metadata: { name: 'hourly', namespace: 'default', annotations },
  });
  const flags = [
    '--manifests',
    own.path,
    '--redis-cluster',
    '--redis-url',
    cluster.url,
    '--key-prefix',
    PREFIX,
  ];
  const handled = (result: string) => (l: Record<string, unknown>) =>
    l.msg === 'run-now handled' && l.token === 'tok-1' && l.result === result;
  let operator = startOperator([...flags, '--broker-url', `${broker.url}/0`]);
  try {
    await operator.waitForLog('the run-now sent', handled('sent'), 30_000);
    await operator.stop();
    operator = startOperator([...flags, '--broker-url', `${broker.url}/0`]);
    await operator.waitForLog('the token found claimed', handled('before'), 30_000);
  } finally {
    await operator.stop();
    await own.remove();
  }
  assert.equal(await brokerClient.llen(queue), 1, 'sent once');
});
