// The registry of operators on one Redis, through register-operator-1.lua on a real Redis: overlapping
// scopes are refused with both named, side-by-side scopes and replicas of one operator are not.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import {
  OPERATOR_REGISTRY_KEY,
  OperatorOverlapError,
  OperatorRegistry,
} from '../../../src/store/operator-registry.ts';
import type { OperatorScope } from '../../../src/store/operator-scope.ts';
import { waitUntil } from '../../support/ports.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis();
const started: OperatorRegistry[] = [];

beforeEach(async () => {
  for (const registry of started.splice(0)) registry.stop();
  await local.redis.del(OPERATOR_REGISTRY_KEY);
});

after(() => {
  for (const registry of started) registry.stop();
});

const registry = (scope: OperatorScope, periodMs?: number) =>
  new OperatorRegistry(local.redis, scope, periodMs === undefined ? {} : { periodMs });

async function refusal(scope: OperatorScope): Promise<string> {
  const error = await registry(scope)
    .register()
    .then(
      () => assert.fail(`${scope.id} should have been refused`),
      (e: unknown) => e,
    );
  assert.ok(error instanceof OperatorOverlapError, String(error));
  return error.message;
}

test('a nested prefix is refused, naming both operators with their prefixes and scopes', async () => {
  await registry({ id: 'x', keyPrefix: 'tasks:meta:' }).register();
  const message = await refusal({ id: 'y', keyPrefix: 'tasks:meta:y:' });
  assert.equal(
    message,
    'operator "y" (key prefix "tasks:meta:y:", all namespaces) overlaps the running operator "x" ' +
      '(key prefix "tasks:meta:", all namespaces) on this Redis, and each would prune and overwrite ' +
      "the other's keys: use key prefixes neither of which begins the other, or watch disjoint namespaces (--namespace)",
  );
  // The other way round too: the shorter prefix covers the longer one's keys.
  await local.redis.del(OPERATOR_REGISTRY_KEY);
  await registry({ id: 'y', keyPrefix: 'tasks:meta:y:' }).register();
  assert.match(
    await refusal({ id: 'x', keyPrefix: 'tasks:meta:' }),
    /^operator "x" .* the running operator "y"/,
  );
  assert.deepEqual(
    Object.keys(await local.redis.hgetall(OPERATOR_REGISTRY_KEY)),
    ['y'],
    'a refused operator is not registered',
  );
});

test('one prefix with disjoint namespaces, and prefixes that do not nest, run side by side', async () => {
  await registry({ id: 'ops-a/celerybeat-operator', keyPrefix: 'tasks:meta:', namespace: 'a' }).register();
  await registry({ id: 'ops-b/celerybeat-operator', keyPrefix: 'tasks:meta:', namespace: 'b' }).register();
  await registry({ id: 'other', keyPrefix: 'jobs:' }).register();
  const entries = await local.redis.hgetall(OPERATOR_REGISTRY_KEY);
  assert.deepEqual(Object.keys(entries).sort(), [
    'ops-a/celerybeat-operator',
    'ops-b/celerybeat-operator',
    'other',
  ]);
  assert.deepEqual(
    { ...JSON.parse(entries['ops-a/celerybeat-operator']!), heartbeat: 0 },
    { prefix: 'tasks:meta:', namespace: 'a', heartbeat: 0 },
  );
  // Watching all namespaces on the same prefix meets both.
  const message = await refusal({ id: 'all', keyPrefix: 'tasks:meta:' });
  assert.match(message, /"ops-a\/celerybeat-operator" \(key prefix "tasks:meta:", namespace "a"\)/);
  assert.match(message, /"ops-b\/celerybeat-operator" \(key prefix "tasks:meta:", namespace "b"\)/);
  // And a namespace one of them watches.
  await refusal({ id: 'second-b', keyPrefix: 'tasks:meta:', namespace: 'b' });
});

test('replicas of one operator, and its restart, register under the same id', async () => {
  const scope = { id: 'ops/celerybeat-operator', keyPrefix: 'tasks:meta:' };
  await registry(scope).register();
  await registry(scope).register();
  await registry({ ...scope, keyPrefix: 'tasks:meta:renamed:' }).register();
  assert.deepEqual(Object.keys(await local.redis.hgetall(OPERATOR_REGISTRY_KEY)), [scope.id]);
});

test('the entry of an operator that stopped refreshing lapses, and a neighbour may start', async () => {
  const gone = registry({ id: 'gone', keyPrefix: 'tasks:meta:' }, 100);
  await gone.register();
  await refusal({ id: 'next', keyPrefix: 'tasks:meta:' });
  await waitUntil(
    'the lapsed entry no longer refuses',
    () =>
      registry({ id: 'next', keyPrefix: 'tasks:meta:' }, 100)
        .register()
        .then(
          () => true,
          () => false,
        ),
    5000,
    50,
  );
  assert.deepEqual(Object.keys(await local.redis.hgetall(OPERATOR_REGISTRY_KEY)), ['next']);
});

test('a refreshed entry stays live, and a refresh reports a neighbour that started meanwhile', async () => {
  const live = registry({ id: 'live', keyPrefix: 'tasks:meta:' }, 500);
  await live.register();
  const overlaps: string[] = [];
  live.start(
    (message) => overlaps.push(message),
    (error) => overlaps.push(error.message),
  );
  started.push(live);
  // Longer than an entry lives without a refresh, it still refuses a neighbour: the refreshes kept it.
  const firstBeat = JSON.parse((await local.redis.hget(OPERATOR_REGISTRY_KEY, 'live'))!).heartbeat as number;
  await waitUntil(
    'several refreshes',
    async () =>
      JSON.parse((await local.redis.hget(OPERATOR_REGISTRY_KEY, 'live'))!).heartbeat > firstBeat + 1500,
    5000,
    50,
  );
  await refusal({ id: 'late', keyPrefix: 'tasks:meta:' });

  // A neighbour that got in while this entry was gone (a partition) is reported at the next refresh.
  const [seconds, micros] = await local.redis.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const intruder = { prefix: 'tasks:meta:x:', namespace: '', heartbeat: now };
  await local.redis.hset(OPERATOR_REGISTRY_KEY, 'intruder', JSON.stringify(intruder));
  await waitUntil('the overlap is reported', () => overlaps.length > 0, 5000, 20);
  assert.match(
    overlaps[0]!,
    /^operator "live" .* overlaps the running operator "intruder" \(key prefix "tasks:meta:x:"/,
  );
});
