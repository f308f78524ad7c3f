// At start the operator reads Redis's maxmemory-policy and says when Redis may evict its keys.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { Redis } from 'ioredis';
import { readEvictionPolicy } from '../../../src/store/eviction-policy.ts';
import { intervalTask, type ManifestDir } from '../../support/manifests.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
let dir: ManifestDir;

before(async () => {
  dir = await bed.manifests();
  await dir.write('policy.yaml', intervalTask('policy', 60));
});

/** The warning lines about the eviction policy of one operator run, once it has connected the broker. */
async function policyWarnings(flags: string[] = []): Promise<Array<Record<string, unknown>>> {
  const operator = bed.operator(dir, flags);
  try {
    await operator.waitForLog('broker connected', (l) => l.msg === 'broker connected');
    return operator.logs().filter((l) => l.maxmemoryPolicy !== undefined && l.level === 'warn');
  } finally {
    await operator.stop();
  }
}

test('allkeys-lru: a warning names the policy and what it loses; noeviction: none', async () => {
  await bed.redis.config('SET', 'maxmemory-policy', 'noeviction');
  assert.deepEqual(await policyWarnings(), []);
  await bed.redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
  const [warning, ...more] = await policyWarnings();
  assert.ok(warning, 'a warning about the policy');
  assert.equal(more.length, 0);
  assert.equal(warning.maxmemoryPolicy, 'allkeys-lru');
  assert.match(String(warning.msg), /allkeys-lru/);
  assert.match(String(warning.msg), /run state/);
});

test('volatile-ttl: a warning while the leader lock is in Redis, none with --leader-elect none', async () => {
  await bed.redis.config('SET', 'maxmemory-policy', 'volatile-ttl');
  const [warning] = await policyWarnings();
  assert.ok(warning, 'a warning about the policy');
  assert.match(String(warning.msg), /volatile-ttl/);
  assert.match(String(warning.msg), /leader lock/);
  assert.deepEqual(await policyWarnings(['--leader-elect', 'none']), []);
});

test('where CONFIG is refused (managed Redis), the policy is read from INFO memory', async () => {
  await bed.redis.config('SET', 'maxmemory-policy', 'allkeys-lfu');
  await bed.redis.acl('SETUSER', 'no-config', 'on', '>secret', '~*', '&*', '+@all', '-config');
  const limited = new Redis(`redis://no-config:secret@127.0.0.1:${bed.server.port}`);
  try {
    await assert.rejects(limited.config('GET', 'maxmemory-policy'), /NOPERM/);
    assert.equal(await readEvictionPolicy(limited), 'allkeys-lfu');
  } finally {
    limited.disconnect();
  }
});
