// A plain redis:// address whose server became a read-only replica (a failover demoted it, and the name now
// leads to the new master for new connections only): the operator reconnects, says so, and runs go on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { intervalTask, manifestDir } from '../../support/manifests.ts';
import { startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { startRedisServer } from '../../support/redis-server.ts';
import { tcpRelay } from '../../support/tcp-relay.ts';

async function runCount(redis: Redis): Promise<number> {
  const value = await redis.get('tasks:meta:default/failover');
  return value === null ? 0 : (JSON.parse(value) as { total_run_count: number }).total_run_count;
}

test('READONLY from a demoted master on a plain redis:// address: reconnect, say so, runs go on on the new master', async () => {
  const first = await startRedisServer();
  const second = await startRedisServer();
  const a = new Redis(first.url);
  const b = new Redis(second.url);
  const address = await tcpRelay(first.port);
  const dir = await manifestDir();
  await dir.write('failover.yaml', intervalTask('failover', 1, { options: { queue: 'failover' } }));
  await b.replicaof('127.0.0.1', first.port);
  await waitUntil(
    'the replica in sync',
    async () => /master_link_status:up/.test(await b.info('replication')),
    10_000,
  );
  const operator = startOperator([
    '--manifests',
    dir.path,
    '--redis-url',
    `redis://127.0.0.1:${address.port}`,
  ]);
  try {
    await operator.waitForLog(
      'two runs',
      () => operator.logs().filter((l) => l.msg === 'task sent').length >= 2,
    );
    await waitUntil('the runs replicated', async () => (await runCount(b)) >= 2, 5000);

    // The failover: the replica is promoted, the address leads to it, the old master follows it.
    await b.replicaof('NO', 'ONE');
    address.pointAt(second.port);
    await a.replicaof('127.0.0.1', second.port);
    const atFailover = await runCount(b);

    await operator.waitForLog(
      'the reconnect after READONLY',
      (l) =>
        l.level === 'warn' && /read-only replica/.test(String(l.msg)) && /READONLY/.test(String(l.reply)),
      15_000,
    );
    await waitUntil(
      'runs recorded on the new master',
      async () => (await runCount(b)) >= atFailover + 3,
      15_000,
    );
    assert.ok((await b.llen('failover')) >= 3, 'and their messages are on the new master');
    const readOnlyNotices = operator.logs().filter((l) => /read-only replica/.test(String(l.msg)));
    assert.ok(
      readOnlyNotices.length <= 2,
      `said once per connection, not once per command (${readOnlyNotices.length})`,
    );
  } finally {
    await operator.stop();
    a.disconnect();
    b.disconnect();
    await address.close();
    await first.stop();
    await second.stop();
    await dir.remove();
  }
});
