// What one task that can never be written costs: Redis commands per minute of a standalone operator with
// 1,000 hourly tasks, all healthy, and with one task whose key holds a hash (every write of it fails with
// WRONGTYPE). The failing task is retried alone with backoff, so the two figures stay close.
//   node test/bench/failing-task.bench.ts [--count 1000] [--window 60]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { intervalTask, manifestDir } from '../support/manifests.ts';
import { startOperator } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000' }, window: { type: 'string', default: '60' } },
});
const count = Number(values.count);
const windowMs = Number(values.window) * 1000;

async function commandsPerMinute(failing: boolean): Promise<number> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const dir = await manifestDir();
  try {
    const tasks = Array.from({ length: count }, (_, i) => intervalTask(`t-${i}`, 3600));
    await dir.write('tasks.yaml', ...tasks);
    if (failing) await redis.hset('tasks:meta:default/t-0', 'not', 'a string');
    const operator = startOperator([
      '--manifests',
      dir.path,
      '--redis-url',
      server.url,
      '--log-level',
      'info',
    ]);
    try {
      const reconciled = () => operator.logs().filter((l) => l.msg === 'task reconciled').length;
      await waitUntil('every healthy task written', () => reconciled() >= count - (failing ? 1 : 0), 120_000);
      if (failing) await operator.waitForLog('the failure', (l) => l.msg === 'reconcile failed', 30_000);
      const processed = async () =>
        Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
      const before = await processed();
      // A measuring window, not a wait for an event.
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const after = await processed();
      return ((after - before - 1) * 60_000) / windowMs;
    } finally {
      await operator.stop();
    }
  } finally {
    redis.disconnect();
    await server.stop();
    await dir.remove();
  }
}

const healthy = await commandsPerMinute(false);
const oneFailing = await commandsPerMinute(true);
process.stdout.write(
  `| ${count} hourly tasks | Redis commands per minute |\n| --- | ---: |\n` +
    `| all healthy | ${healthy.toFixed(0)} |\n| one always failing | ${oneFailing.toFixed(0)} |\n` +
    `| ratio | ${(oneFailing / healthy).toFixed(2)} |\n`,
);
