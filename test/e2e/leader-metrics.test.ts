// The README's promise for `celerybeat_leader` ("1 while this instance leads") holds in all three
// leader-election modes: the gauge is set where leader work starts and stops, not by one elector.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { intervalTask, type ManifestDir, manifestDir } from '../support/manifests.ts';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { counterValue, type OperatorProcess, startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

let redis: RedisServer;
let dir: ManifestDir;

before(async () => {
  redis = await startRedisServer();
  dir = await manifestDir();
  await dir.write('a.yaml', intervalTask('leader-gauge', 1));
});
after(async () => {
  await dir.remove();
  await redis.stop();
});

async function leaderGauge(operator: OperatorProcess): Promise<[number, number]> {
  const text = await operator.metrics();
  return [
    counterValue(text, 'celerybeat_leader'),
    counterValue(text, 'leader_election_master_status{name="celerybeat-operator"}'),
  ];
}

async function expectLeading(operator: OperatorProcess): Promise<void> {
  await operator.waitForLog('leading', (l) => l.msg === 'became leader', 60_000);
  await waitUntil('the gauges at 1', async () => (await leaderGauge(operator)).join() === '1,1', 10_000);
}

for (const mode of ['redis', 'none'] as const) {
  test(`--leader-elect ${mode}: the leader gauges read 1 while leading${mode === 'redis' ? ", a standby's 0" : ''}`, async () => {
    const args = ['--manifests', dir.path, '--redis-url', redis.url, '--leader-elect', mode];
    const first = startOperator(args);
    try {
      await expectLeading(first);
      if (mode === 'redis') {
        const standby = startOperator(args);
        try {
          await standby.waitForLog('serving', (l) => typeof l.metricsPort === 'number');
          assert.deepEqual(await leaderGauge(standby), [0, 0], 'the standby does not lead');
        } finally {
          await standby.stop();
        }
      }
    } finally {
      await first.stop();
    }
  });
}

test('--leader-elect lease: the leader gauges read 1 while leading', async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'gauge');
  await cluster.kubectl(['apply', '-f', '-'], {
    input: periodicTask(ns.namespace, 'g', { interval: { every: 1, period: 'hours' } }),
  });
  const operator = startClusterOperator(ns, redis.url, ['--key-prefix', 'gauge:']);
  try {
    await expectLeading(operator);
  } finally {
    await operator.stop();
  }
});
