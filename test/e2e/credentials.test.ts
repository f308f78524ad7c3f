// Lost credentials are not an outage: once the operator's ServiceAccount is deleted the API server answers
// 401 to every Lease request. The operator says so (not "unreachable"), /healthz fails, and the process ends
// non-zero so that a fresh pod (with a fresh token, or fixed RBAC) takes over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operatorNamespace, periodicTask, startClusterOperator } from '../support/operator-cluster.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { sharedCluster } from '../testbed/cluster.ts';

test('a deleted ServiceAccount: the refusal is named, /healthz fails and the process exits non-zero', async () => {
  const cluster = await sharedCluster();
  const ns = await operatorNamespace(cluster, 'creds');
  const redis = await startRedisServer();
  await cluster.kubectl(['apply', '-f', '-'], {
    input: periodicTask(ns.namespace, 'creds', { interval: { every: 1, period: 'seconds' } }),
  });
  const operator = startClusterOperator(ns, redis.url);
  try {
    await operator.waitForLog('leading', (l) => l.msg === 'became leader', 60_000);
    const healthPort = operator.logs().find((l) => typeof l.healthPort === 'number')?.healthPort;
    const healthz = async () => (await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status;
    assert.equal(await healthz(), 200);

    await cluster.kubectl(['delete', 'serviceaccount', 'celerybeat-operator', '-n', ns.namespace]);
    await waitUntil(
      '/healthz to fail',
      async () => operator.process.hasExited() || (await healthz().catch(() => 500)) === 500,
      90_000,
      500,
    );
    await waitUntil('the process to exit', () => operator.process.hasExited(), 60_000, 200);
    assert.equal(await operator.process.exited, 1, 'a non-zero exit');
    const logs = operator.logs();
    assert.ok(
      logs.some((l) => /refuse/.test(String(l.msg)) && /HTTP 401/.test(String(l.msg))),
      'the log names the refusal and its status',
    );
    assert.ok(!logs.some((l) => /unreachable/.test(String(l.msg))), 'a refusal is not called unreachable');
    assert.ok(logs.some((l) => l.msg === 'cannot take part in leader election; exiting'));
  } finally {
    await operator.kill();
    await redis.stop();
  }
});
