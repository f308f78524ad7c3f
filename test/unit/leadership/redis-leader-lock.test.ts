// RedisLeaderLock against a private real redis-server (the lock's Lua scripts are the behaviour under test).
// Short lock times keep the tests quick; every wait is on a condition.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis, type RedisOptions } from 'ioredis';
import type { LeadershipCallbacks } from '../../../src/contracts.ts';
import { RedisLeaderLock } from '../../../src/leadership/redis-leader-lock.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { tcpRelay } from '../../support/tcp-relay.ts';

let server: RedisServer;
let admin: Redis;
const connections: Redis[] = [];
/** Every lock a test started: one a failed assertion left running would keep renewing, and the file never end. */
const locks: RedisLeaderLock[] = [];

/** The options the operator's own store connection uses (src/cli/run.ts). */
const RUN_OPTIONS: RedisOptions = { maxRetriesPerRequest: 2, connectTimeout: 5000 };

function connect(url: string, options: RedisOptions = RUN_OPTIONS): Redis {
  const redis = new Redis(url, options);
  redis.on('error', () => {}); // reconnect errors are expected in the outage tests
  connections.push(redis);
  return redis;
}

before(async () => {
  server = await startRedisServer();
  admin = connect(server.url);
});

after(async () => {
  // release() stops the lock's timers at once; over a closed connection its reply never comes.
  for (const lock of locks) void lock.release().catch(() => {});
  for (const redis of connections) redis.disconnect();
  await server.stop();
});

let counter = 0;
const lockKey = (): string => `test:leader:${++counter}`;

interface Tracked extends LeadershipCallbacks {
  events: string[];
  errors: number;
  /** Date.now() at the first onError and at onStoppedLeading. */
  firstErrorAt?: number;
  leaderAtFirstError?: boolean;
  stoppedAt?: number;
}

function track(lock: RedisLeaderLock): Tracked {
  const t: Tracked = {
    events: [],
    errors: 0,
    onStartedLeading: () => t.events.push('started'),
    onStoppedLeading: () => {
      t.stoppedAt = Date.now();
      t.events.push('stopped');
    },
    onError: () => {
      t.errors += 1;
      if (t.firstErrorAt === undefined) {
        t.firstErrorAt = Date.now();
        t.leaderAtFirstError = lock.isLeader();
      }
    },
  };
  locks.push(lock);
  lock.run(t);
  return t;
}

test('acquires the lock with its token and keeps renewing it past its time to live', async () => {
  const key = lockKey();
  // Renewed every 100 ms, the lock outlives a stall of the test process of up to two seconds.
  const lock = new RedisLeaderLock(connect(server.url), { key, ttlMs: 2000, retryMs: 100 });
  const t = track(lock);
  await waitUntil('leading', () => lock.isLeader(), 5000, 10);
  assert.deepEqual(t.events, ['started']);
  assert.equal(await admin.get(key), lock.token);
  const firstExpiry = Number(await admin.pexpiretime(key));
  assert.ok(firstExpiry > Date.now(), 'the lock has a time to live');
  await waitUntil('the first expiry to pass', () => Date.now() > firstExpiry + 200, 5000, 20);
  assert.equal(await admin.get(key), lock.token, 'renewed: still held after its first time to live');
  assert.ok(Number(await admin.pexpiretime(key)) > firstExpiry);
  assert.deepEqual(t.events, ['started']);
  assert.equal(lock.healthy(), true);
  await lock.release();
});

test('another token in the key ends leadership, and the lost lock is not touched', async () => {
  const key = lockKey();
  const lock = new RedisLeaderLock(connect(server.url), { key, ttlMs: 600, retryMs: 100 });
  const t = track(lock);
  await waitUntil('leading', () => lock.isLeader(), 5000, 10);
  await admin.set(key, 'intruder', 'PX', 60_000);
  await waitUntil('leadership lost', () => t.events.includes('stopped'), 5000, 10);
  assert.equal(lock.isLeader(), false);
  assert.deepEqual(t.events, ['started', 'stopped']);
  await lock.release();
  assert.equal(await admin.get(key), 'intruder', 'release() does not delete a lock it no longer holds');
});

test('confirm() re-checks at once: takes back a vanished lock, reports one held by another token', async () => {
  const key = lockKey();
  // A long retry, so only confirm() can be what re-checks.
  const lock = new RedisLeaderLock(connect(server.url), { key, ttlMs: 60_000, retryMs: 30_000 });
  const t = track(lock);
  await waitUntil('leading', () => lock.isLeader(), 5000, 10);
  await admin.del(key); // Redis restarted empty
  assert.equal(await lock.confirm(), true);
  assert.equal(await admin.get(key), lock.token, 'the lock is taken back');
  await admin.set(key, 'other');
  assert.equal(await lock.confirm(), false);
  assert.deepEqual(t.events, ['started', 'stopped']);
  await lock.release();
});

test('release() gives the lock up so a standby takes over', async () => {
  const key = lockKey();
  const a = new RedisLeaderLock(connect(server.url), { key, ttlMs: 10_000, retryMs: 100 });
  const b = new RedisLeaderLock(connect(server.url), { key, ttlMs: 10_000, retryMs: 100 });
  const ta = track(a);
  await waitUntil('a leading', () => a.isLeader(), 5000, 10);
  const tb = track(b);
  assert.equal(await b.confirm(), false, 'the standby does not lead while the lock is held');
  await a.release();
  assert.notEqual(await admin.get(key), a.token);
  await waitUntil('b leading', () => b.isLeader(), 5000, 10);
  assert.equal(await admin.get(key), b.token);
  assert.deepEqual(ta.events, ['started'], 'a released leadership: no onStoppedLeading');
  assert.deepEqual(tb.events, ['started']);
  // a is stopped for good: it does not campaign again once b's lock is gone.
  await b.release();
  assert.equal(await admin.exists(key), 0);
  assert.equal(await a.confirm(), false);
  assert.equal(await admin.exists(key), 0);
});

/** Redis stops; the lock's renewals fail. Returns when leadership ended or `waitMs` passed. */
async function outage(options: RedisOptions, ttlMs: number, retryMs: number, waitMs: number) {
  const own = await startRedisServer();
  const redis = connect(own.url, options);
  const lock = new RedisLeaderLock(redis, { key: lockKey(), ttlMs, retryMs });
  try {
    const t = track(lock);
    await waitUntil('leading', () => lock.isLeader(), 5000, 10);
    const downAt = Date.now();
    await own.stop();
    await waitUntil('a renewal to fail', () => t.errors > 0, 10_000, 10);
    await waitUntil('leadership lost', () => t.events.includes('stopped'), waitMs, 10).catch(() => {});
    return { t, downAt, leading: lock.isLeader() };
  } finally {
    // Not awaited: over a connection that is still reconnecting, the release would wait for its retries.
    void lock.release();
    redis.disconnect();
    await own.stop().catch(() => {});
  }
}

test('Redis unreachable: keeps leading while its lock cannot have expired, then stops', async () => {
  const ttlMs = 2000;
  const retryMs = 400;
  // Quick reconnects, so a renewal fails within a retry period (the next test uses the options of run).
  const { t, downAt, leading } = await outage(
    { retryStrategy: () => 20, maxRetriesPerRequest: 2 },
    ttlMs,
    retryMs,
    10_000,
  );
  assert.equal(t.leaderAtFirstError, true, 'one failed renewal does not end leadership');
  assert.equal(leading, false);
  assert.deepEqual(t.events, ['started', 'stopped']);
  // The last renewal began before Redis went down, so the lock expires by downAt + ttl at the latest.
  const lostAfter = t.stoppedAt! - downAt;
  assert.ok(lostAfter <= ttlMs, `led ${lostAfter} ms after Redis went down, the lock lives ${ttlMs} ms`);
  assert.ok(lostAfter >= ttlMs - 3 * retryMs, `gave up after ${lostAfter} ms, earlier than needed`);
});

test('Redis unreachable, with the connection options of run: leadership ends by the time the lock expires', async () => {
  const ttlMs = 3000;
  const { t, downAt, leading } = await outage(RUN_OPTIONS, ttlMs, 600, ttlMs + 1000);
  assert.equal(leading, false, `still leading ${Date.now() - downAt} ms after Redis went down`);
  assert.ok(t.stoppedAt! - downAt <= ttlMs);
});

test('Redis unresponsive (a partition without resets): leadership ends before the lock can have expired', async () => {
  const link = await tcpRelay(server.port);
  const ttlMs = 1000;
  const lock = new RedisLeaderLock(connect(`redis://127.0.0.1:${link.port}`), {
    key: lockKey(),
    ttlMs,
    retryMs: 200,
  });
  try {
    const t = track(lock);
    await waitUntil('leading', () => lock.isLeader(), 5000, 10);
    link.freeze();
    const frozenAt = Date.now();
    await waitUntil('leadership lost', () => t.events.includes('stopped'), ttlMs + 2000, 20).catch(() => {});
    assert.equal(
      lock.isLeader(),
      false,
      `still leading ${Date.now() - frozenAt} ms later; the lock lives ${ttlMs} ms`,
    );
  } finally {
    link.thaw();
    await lock.release();
    await link.close();
  }
});
