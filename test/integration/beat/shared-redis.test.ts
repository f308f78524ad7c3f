// Operators in standalone mode that share one Redis (docs/sharing-redis.md): one whose key prefix overlaps
// a running neighbour's refuses to start naming both, and none deletes the keys of another.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalTask, type ManifestDir } from '../../support/manifests.ts';
import type { OperatorProcess } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();

async function manifests(...documents: unknown[]): Promise<ManifestDir> {
  const dir = await bed.manifests();
  await dir.write('tasks.yaml', ...documents);
  return dir;
}

/** The exit status of the process, or "still running" (and it is killed) after `ms`. */
async function exitWithin(operator: OperatorProcess, ms: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, ms, 'still running');
  });
  const exit = await Promise.race([operator.process.exited, late]);
  clearTimeout(timer);
  if (exit === 'still running') await operator.kill();
  return exit;
}

async function runCount(key: string): Promise<number> {
  const raw = await bed.redis.get(key);
  return raw === null ? -1 : (JSON.parse(raw) as { total_run_count: number }).total_run_count;
}

test("an operator whose prefix nests in a running neighbour's refuses to start, naming both", async () => {
  await bed.redis.flushdb();
  const x = bed.operator(await manifests(intervalTask('x-task', 1)), ['--key-prefix', 'tasks:meta:']);
  try {
    await waitUntil(
      'x runs its task',
      async () => (await runCount('tasks:meta:default/x-task')) >= 1,
      20_000,
    );
    const y = bed.operator(await manifests(intervalTask('y-task', 1)), ['--key-prefix', 'tasks:meta:y:']);
    const exit = await exitWithin(y, 20_000);
    assert.equal(exit, 1, `y exits with status 1\n${y.process.output().slice(-2000)}`);
    const line = y.process
      .output()
      .split('\n')
      .find((l) => l.startsWith('celerybeat-operator run: '));
    assert.equal(
      line,
      'celerybeat-operator run: operator "celerybeat-operator:leader:tasks:meta:y:" (key prefix "tasks:meta:y:", ' +
        'all namespaces) overlaps the running operator "celerybeat-operator:leader:tasks:meta:" (key prefix ' +
        '"tasks:meta:", all namespaces) on this Redis, and each would prune and overwrite the other\'s keys: ' +
        'use key prefixes neither of which begins the other, or watch disjoint namespaces (--namespace)',
    );
    assert.equal(await bed.redis.exists('tasks:meta:y:default/y-task'), 0, 'y wrote nothing');
    const before = await runCount('tasks:meta:default/x-task');
    await waitUntil(
      'x keeps running',
      async () => (await runCount('tasks:meta:default/x-task')) > before,
      10_000,
    );
  } finally {
    await x.stop();
  }
});

test('an operator never prunes the keys under a nested prefix, whoever wrote them', async () => {
  await bed.redis.flushdb();
  // Keys of an operator Y with the prefix tasks:meta:y:, as a version that recorded no operator wrote them,
  // and as one that did. Y is not running (its keys outlive it), so X may start.
  const runState =
    '"last_run_at":{"__type__":"datetime","year":2026,"month":1,"day":1,"hour":0,"minute":0,"second":0,"microsecond":0},' +
    '"total_run_count":41,"last_task_id":null,"last_task_slot":null,"missed_run_count":0';
  const legacy = `{"name":"default/old","task":"tasks.record","owner":{"namespace":"default","name":"old","uid":"u1"},${runState}}`;
  const recorded = `{"name":"default/new","task":"tasks.record","owner":{"namespace":"default","name":"new","uid":"u2","operator":"y"},${runState}}`;
  await bed.redis.set('tasks:meta:y:default/old', legacy);
  await bed.redis.set('tasks:meta:y:default/new', recorded);

  const x = bed.operator(await manifests(intervalTask('x-task', 1)));
  try {
    // The prune at start comes before the first run.
    await waitUntil(
      'x runs its task',
      async () => (await runCount('tasks:meta:default/x-task')) >= 1,
      20_000,
    );
    assert.equal(await bed.redis.get('tasks:meta:y:default/old'), legacy);
    assert.equal(await bed.redis.get('tasks:meta:y:default/new'), recorded);
    assert.ok(
      !x.logs().some((l) => l.msg === 'pruned key of a resource that no longer exists'),
      'x pruned nothing',
    );
  } finally {
    await x.stop();
  }
});
