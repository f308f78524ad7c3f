// One team's queue name must not void, block or reach another team's tasks: the real `run` command in
// standalone mode, broker = the store's Redis (the default), on manifests of two namespaces.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalTask, type ManifestDir } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();

/** One grid for every task: their slots fall due together, so they share one dispatch call. */
const GRID = { startTime: '2026-01-01T00:00:00Z' };

/** Written as JSON (valid YAML): a plain YAML timestamp would be read as a date, not as the string it is. */
function write(dir: ManifestDir, file: string, ...documents: unknown[]): Promise<void> {
  return dir.writeRaw(file, documents.map((d) => JSON.stringify(d)).join('\n---\n'));
}

interface Ready {
  reason?: string;
  message?: string;
}

/** The key's total_run_count; -1 while there is no task value (no key, or a key of another type). */
async function storedRuns(key: string): Promise<number> {
  if ((await bed.redis.type(`tasks:meta:${key}`)) !== 'string') return -1;
  const raw = await bed.redis.get(`tasks:meta:${key}`);
  return raw === null ? -1 : (JSON.parse(raw).total_run_count as number);
}

/** The messages in a queue list, counted by `periodic_task_name`. */
async function messagesPerTask(queue: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const envelope of await bed.redis.lrange(queue, 0, -1)) {
    const name = String(JSON.parse(envelope).headers.periodic_task_name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

test('a queue that is an application hash fails its own task; the 20 tasks dispatched with it all publish', async () => {
  await bed.redis.hset('app:settings', 'theme', 'dark');
  const dir = await bed.manifests();
  const victims = Array.from({ length: 20 }, (_, i) => `victim-${i}`);
  await write(dir, 'team-b.yaml', ...victims.map((name) => intervalTask(name, 1, GRID, 'team-b')));
  await write(
    dir,
    'team-a.yaml',
    intervalTask('attacker', 1, { ...GRID, options: { queue: 'app:settings' } }, 'team-a'),
  );
  const operator = bed.operator(dir);
  try {
    await waitUntil(
      'every team-b task recorded three runs',
      async () => (await Promise.all(victims.map((v) => storedRuns(`team-b/${v}`)))).every((n) => n >= 3),
      30_000,
    );
  } finally {
    assert.equal(await operator.stop(), 0, 'a clean exit');
  }
  const sent = await messagesPerTask('celery');
  for (const victim of victims) {
    const runs = await storedRuns(`team-b/${victim}`);
    assert.equal(sent.get(`team-b/${victim}`) ?? 0, runs, `${victim}: one message per recorded run`);
  }
  assert.equal(await storedRuns('team-a/attacker'), 0, 'no run recorded for the refused task');
  assert.equal(sent.get('team-a/attacker'), undefined);
  assert.deepEqual(await bed.redis.hgetall('app:settings'), { theme: 'dark' }, 'the hash is untouched');
  const reported = operator
    .logs()
    .find(
      (l) =>
        l.msg === 'task status' &&
        l.name === 'attacker' &&
        (l.ready as Ready | undefined)?.reason === 'PublishFailed',
    );
  assert.match(
    String((reported?.ready as Ready | undefined)?.message),
    /queue "app:settings" is a Redis hash, not a list: WRONGTYPE/,
    'the hostile task reported PublishFailed, naming its queue',
  );
});

test('a queue under the key prefix is InvalidSpec; the namespace it names applies that task later and it runs', async () => {
  const dir = await bed.manifests();
  await write(dir, 'early.yaml', intervalTask('early', 1, GRID, 'team-b'));
  await write(
    dir,
    'attacker.yaml',
    intervalTask('squatter', 1, { ...GRID, options: { queue: 'tasks:meta:team-b/later' } }, 'team-a'),
  );
  const operator = bed.operator(dir);
  try {
    // Long enough for a run of the other namespace's task, had it been dispatched.
    await waitUntil('team-b/early runs twice', async () => (await storedRuns('team-b/early')) >= 2, 20_000);
    await write(dir, 'later.yaml', intervalTask('later', 1, GRID, 'team-b'));
    await waitUntil('team-b/later runs', async () => (await storedRuns('team-b/later')) >= 1, 20_000);
    assert.equal(await bed.redis.type('tasks:meta:team-b/later'), 'string');
    await operator.waitForLog(
      'the squatting task refused, naming spec.options.queue',
      (l) =>
        l.msg === 'invalid PeriodicTask' &&
        l.name === 'squatter' &&
        /spec\.options\.queue: .*tasks:meta:/.test(String(l.reason)),
    );
  } finally {
    assert.equal(await operator.stop(), 0, 'a clean exit');
  }
});
