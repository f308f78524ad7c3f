// What goes wrong in production, in real time: crashes, two dispatchers, Redis restarts, bad input.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

let server: RedisServer;
let redis: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
});

after(async () => {
  redis.disconnect();
  await server.stop();
});

interface Published {
  task: string;
  slot: string;
  id: string;
}

async function published(queue: string): Promise<Published[]> {
  return (await redis.lrange(queue, 0, -1)).map((raw) => {
    const h = JSON.parse(raw).headers;
    return { task: h.periodic_task_name, slot: h.periodic_task_scheduled_at, id: h.id };
  });
}

function duplicates(messages: Published[]): string[] {
  const seen = new Map<string, number>();
  for (const m of messages) seen.set(`${m.task}@${m.slot}`, (seen.get(`${m.task}@${m.slot}`) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

async function withDir<T>(fn: (dir: ManifestDir) => Promise<T>): Promise<T> {
  const dir = await manifestDir();
  try {
    return await fn(dir);
  } finally {
    await dir.remove();
  }
}

test('kill -9 and restart: no slot published twice, at most one catch-up run per task', () =>
  withDir(async (dir) => {
    const queue = 'crash-restart';
    await dir.write('crash.yaml', intervalTask('crash', 1, { options: { queue } }));
    const first = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    await waitUntil('three runs', async () => (await redis.llen(queue)) >= 3, 15_000);
    await first.kill();
    const beforeRestart = await published(queue);
    await new Promise((r) => setTimeout(r, 4000));
    const second = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    try {
      await waitUntil(
        'runs after the restart',
        async () => (await redis.llen(queue)) >= beforeRestart.length + 3,
        20_000,
      );
    } finally {
      await second.stop();
    }
    const all = await published(queue);
    assert.deepEqual(duplicates(all), []);
    const slots = all.map((m) => Date.parse(m.slot)).sort((a, b) => a - b);
    const lastBefore = Math.max(...beforeRestart.map((m) => Date.parse(m.slot)));
    const afterRestart = slots.filter((s) => s > lastBefore);
    // The gap of ~4 s holds several slots: one catch-up run, then the regular 1 s grid.
    assert.ok(afterRestart[1]! - afterRestart[0]! === 1000, 'only one catch-up run, then back on the grid');
    assert.ok(afterRestart[0]! - lastBefore >= 3000, 'the catch-up run is the latest missed slot');
    const value = JSON.parse((await redis.get('tasks:meta:default/crash'))!);
    assert.ok(value.missed_run_count >= 2, 'the skipped slots are counted as missed');
  }));

test('redis leader election: one instance dispatches, the other takes over when it is killed', () =>
  withDir(async (dir) => {
    const queue = 'leader-takeover';
    await dir.write('leader.yaml', intervalTask('leader', 1, { options: { queue } }));
    const a = startOperator(['--manifests', dir.path, '--redis-url', server.url, '--leader-elect', 'redis']);
    await a.waitForLog('a leads', (l) => l.msg === 'became leader');
    const b = startOperator(['--manifests', dir.path, '--redis-url', server.url, '--leader-elect', 'redis']);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      assert.ok(!b.logs().some((l) => l.msg === 'became leader'), 'the second instance stands by');
      await a.kill();
      const killedAt = Date.now();
      await b.waitForLog('b takes over', (l) => l.msg === 'became leader', 30_000);
      // The lock lives 15 s after its last renewal; a standby retries every 3 s.
      assert.ok(
        Date.now() - killedAt <= 15_000 + 3_000 + 2_000,
        'takeover within the lock TTL and one retry',
      );
      const count = await redis.llen(queue);
      await waitUntil('b dispatches', async () => (await redis.llen(queue)) >= count + 2, 10_000);
    } finally {
      await b.stop();
    }
    assert.deepEqual(duplicates(await published(queue)), []);
  }));

test('Redis restarted empty: the operator survives, re-creates the keys and keeps the run counts', () =>
  withDir(async (dir) => {
    const queue = 'redis-restart';
    await dir.write('restart.yaml', intervalTask('restart', 1, { options: { queue } }));
    const operator = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    try {
      await waitUntil('runs', async () => (await redis.llen(queue)) >= 3, 15_000);
      const before = JSON.parse((await redis.get('tasks:meta:default/restart'))!).total_run_count as number;
      await server.restart();
      await waitUntil(
        'the key back with its count',
        async () => {
          const raw = await redis.get('tasks:meta:default/restart').catch(() => null);
          return raw !== null && JSON.parse(raw).total_run_count > before;
        },
        20_000,
      );
      assert.equal(operator.process.hasExited(), false, 'the operator survived');
    } finally {
      await operator.stop();
    }
  }));

test('a malformed key and a malformed manifest are reported and skipped; other tasks keep running', () =>
  withDir(async (dir) => {
    const queue = 'malformed';
    await redis.set('tasks:meta:default/garbage', '{not json');
    await dir.write('good.yaml', intervalTask('good', 1, { options: { queue } }));
    await dir.writeRaw(
      'broken.yaml',
      'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata: {name: [oops\n',
    );
    await dir.write(
      'invalid.yaml',
      intervalTask('bad-zone', 1, { crontab: undefined, timeZone: 'Mars/Olympus' }),
    );
    const operator = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    try {
      await waitUntil('good runs', async () => (await redis.llen(queue)) >= 3, 15_000);
      const logs = operator.logs();
      assert.ok(
        logs.some((l) => l.msg === 'skipping unreadable Redis key' && l.key === 'tasks:meta:default/garbage'),
      );
      assert.ok(logs.some((l) => String(l.file ?? '').endsWith('broken.yaml') && l.level === 'error'));
      assert.ok(logs.some((l) => l.name === 'bad-zone' && /timeZone/.test(String(l.reason ?? l.msg))));
      assert.equal(
        await redis.get('tasks:meta:default/garbage'),
        '{not json',
        'the malformed key is left alone',
      );
    } finally {
      await operator.stop();
    }
  }));

test('a manifest that does not parse at start keeps its task key and run state', () =>
  withDir(async (dir) => {
    const queue = 'broken-at-start';
    const key = 'tasks:meta:default/kept';
    const runs = async (): Promise<number> =>
      JSON.parse((await redis.get(key)) ?? '{"total_run_count":0}').total_run_count;
    await dir.write('kept.yaml', intervalTask('kept', 1, { options: { queue } }));
    const first = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    try {
      await waitUntil('two runs', async () => (await runs()) >= 2, 15_000);
    } finally {
      await first.stop();
    }
    const before = await runs();
    await dir.writeRaw(
      'kept.yaml',
      'apiVersion: celerybeat.io/v1alpha1\nkind: PeriodicTask\nmetadata: {name: [kept\n',
    );
    const second = startOperator(['--manifests', dir.path, '--redis-url', server.url]);
    try {
      await second.waitForLog(
        'no pruning',
        (l) => l.msg === 'some manifests could not be read: not pruning orphaned keys',
      );
      assert.equal(await runs(), before, 'the key and its run count are kept');
      await dir.write('kept.yaml', intervalTask('kept', 1, { options: { queue } }));
      await waitUntil('runs continue from the kept count', async () => (await runs()) >= before + 2, 15_000);
    } finally {
      await second.stop();
    }
  }));
