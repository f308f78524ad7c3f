// A run-now across a Sentinel failover, with durable claims: the real operator, a Sentinel-managed store
// (master, two replicas, three Sentinels) and a separate Redis broker. The replicas are stopped while the
// run-now is claimed, so its claim exists on the master alone; the master is then SIGKILLed and a replica
// that never saw the claim is promoted. A claim-then-publish without the wait would have sent the run before
// the kill and again after it; with durable claims nothing is sent until a replica has the claim, so the run
// is sent exactly once, and a new leader handling the same token finds it claimed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { intervalTask, manifestDir } from '../../support/manifests.ts';
import { type OperatorProcess, startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { startRedisServer } from '../../support/redis-server.ts';
import { startSentinelSet } from '../../support/sentinel.ts';

test('run-now with durable claims across a Sentinel failover: sent once, and not again by a new leader', async () => {
  const sentinel = await startSentinelSet();
  const broker = await startRedisServer();
  const dir = await manifestDir();
  const client = new Redis(`${broker.url}/0`);
  const queue = 'run-now-failover';
  const runNows = async (): Promise<string[]> =>
    (await client.lrange(queue, 0, -1))
      .map((raw) => (JSON.parse(raw) as { headers: Record<string, string> }).headers)
      .filter((h) => h.periodic_task_name === 'default/hourly')
      .map((h) => h.id!);
  const flags = [
    '--manifests',
    dir.path,
    '--redis-url',
    sentinel.url(0),
    '--broker-url',
    `${broker.url}/0`,
    '--durable-claims',
    'on',
  ];
  const hourly = intervalTask('hourly', 3600, { options: { queue } });
  let operator: OperatorProcess | undefined;
  try {
    await dir.write('hourly.yaml', hourly);
    operator = startOperator(flags);
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);

    // Replication stopped: the run-now's claim reaches the master only.
    await sentinel.pauseReplicas();
    const annotations = { 'celerybeat.io/run-now': 'tok-1' };
    await dir.write('hourly.yaml', {
      ...hourly,
      metadata: { name: 'hourly', namespace: 'default', annotations },
    });
    await operator.waitForLog(
      'a claim no replica confirmed',
      (l) =>
        l.msg === 'manual run failed; retrying' && /no Redis replica confirmed/.test(JSON.stringify(l.err)),
      30_000,
    );
    assert.deepEqual(await runNows(), [], 'nothing is published before a replica has the claim');

    const killed = await sentinel.killMaster();
    sentinel.resumeReplicas();
    await sentinel.waitForNewMaster(killed.port, 60_000);
    await operator.waitForLog(
      'the run-now sent through the new master',
      (l) => l.msg === 'run-now handled' && l.token === 'tok-1',
      60_000,
    );
    await waitUntil('the run-now message', async () => (await runNows()).length === 1, 10_000);

    // A new leader handles the same token: the claim is on the master, so nothing is sent again.
    await operator.kill();
    operator = startOperator(flags);
    await operator.waitForLog(
      'the token handled again, as claimed before',
      (l) => l.msg === 'run-now handled' && l.token === 'tok-1' && l.result === 'before',
      60_000,
    );
    await operator.stop();
    operator = undefined;

    const sent = await runNows();
    assert.equal(sent.length, 1, `the run-now was sent once: ${sent.join(', ')}`);
    const master = sentinel.node(await sentinel.settledMaster(60_000));
    assert.equal(
      await master.hget('celerybeat-operator:manual:tasks:meta:default/hourly', 'claim:run-now:tok-1'),
      'sent',
    );
  } finally {
    await operator?.stop().catch(() => undefined);
    client.disconnect();
    await dir.remove();
    await broker.stop();
    await sentinel.stop();
  }
});
