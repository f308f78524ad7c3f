// A new leader's store-load through the real scripts on a real Redis: the tasks of this operator's own keys
// come back exactly as written with their run state (several schedules and exclusions too); another operator's keys, keys without an operator id,
// keys of a neighbouring prefix and held keys do not; a definition write removes the held mark.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadedPage } from '../../../src/contracts.ts';
import { cronDefinition } from '../../../src/schedule/cron-job-parse.ts';
import { RedisTaskStore } from '../../../src/store/task-store.ts';
import { definition, ranState, runState } from '../../support/fakes/definitions.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';

const local = usePrivateRedis();

async function loadAll(store: RedisTaskStore): Promise<LoadedPage> {
  const all: LoadedPage = { tasks: [], skipped: 0 };
  for await (const page of store.loadOwned()) {
    all.tasks.push(...page.tasks);
    all.skipped += page.skipped;
  }
  return all;
}

test('loadOwned gives the tasks of this operator’s keys only, exactly as written, and none that is held', async () => {
  const mine = new RedisTaskStore(local.redis, { keyPrefix: 'load:', operatorId: 'op-a' });
  const theirs = new RedisTaskStore(local.redis, { keyPrefix: 'load:', operatorId: 'op-b' });
  const nested = new RedisTaskStore(local.redis, { keyPrefix: 'load:x:', operatorId: 'op-a' });
  const paused = definition('paused', {
    pause: { reason: 'maintenance', until: Date.UTC(2030, 0, 1, 12) },
    jitterMs: 1500,
    concurrencyPolicy: 'Forbid',
    originalName: 'old.name',
    generation: 7,
    schedule: {
      kind: 'crontab',
      minute: '*/5',
      hour: '*',
      dayOfWeek: '1-5',
      dayOfMonth: '*',
      monthOfYear: '*',
    },
  });
  const plain = definition('plain');
  // Several schedules (a cron and a solar among them, whose documented readings the key carries) and exclusions.
  const several = definition('several', {
    schedule: {
      kind: 'set',
      schedules: [
        cronDefinition('@every 90s'),
        { kind: 'interval', every: 15, period: 'minutes' },
        cronDefinition('0 9 * * 1-5'),
        { kind: 'clocked', at: Date.UTC(2030, 5, 1, 12) },
        {
          kind: 'solar',
          event: 'sunset',
          latitude: 52.52,
          longitude: 13.4,
          documented: {
            crontab: { minute: '2', hour: '16', day_of_week: '*', day_of_month: '*', month_of_year: '*' },
          },
        },
      ],
    },
    exclude: [
      { kind: 'date', date: '2030-12-25' },
      { kind: 'calendar', minute: '*', hour: '2', dayOfWeek: '0', dayOfMonth: '*', monthOfYear: '*' },
    ],
  });
  await mine.upsert(several, runState(Date.UTC(2030, 0, 1)));
  await mine.upsert(paused, ranState(Date.UTC(2030, 0, 1), 4));
  await mine.upsert(plain, runState(Date.UTC(2030, 0, 1)));
  await mine.upsert(definition('invalid-now'), runState(0));
  assert.equal(await mine.hold('ns/invalid-now', 'uid-invalid-now'), true);
  assert.equal(await mine.hold('ns/plain', 'another-uid'), false, 'only the owner’s uid holds a key');
  await theirs.upsert(definition('theirs', { namespace: 'other' }), runState(0));
  await nested.upsert(definition('nested'), runState(0));
  // A key of a version that recorded no operator id and no generation.
  await local.redis.set(
    'load:ns/legacy',
    JSON.stringify({
      name: 'ns/legacy',
      task: 't',
      owner: { namespace: 'ns', name: 'legacy', uid: 'u' },
    }).slice(0, -1) +
      ',"last_run_at":{"__type__":"datetime","year":2030,"month":1,"day":1,"hour":0,"minute":0,"second":0,"microsecond":0},"total_run_count":0,"last_task_id":null,"last_task_slot":null,"missed_run_count":0}',
  );

  const { tasks, skipped } = await loadAll(mine);
  const byKey = new Map(tasks.map((t) => [t.taskKey, t]));
  assert.deepEqual([...byKey.keys()].sort(), ['ns/paused', 'ns/plain', 'ns/several']);
  assert.deepEqual(byKey.get('ns/several')?.def, several, 'several schedules and exclusions, as written');
  assert.deepEqual(byKey.get('ns/paused')?.def, paused);
  assert.deepEqual(byKey.get('ns/paused')?.state, ranState(Date.UTC(2030, 0, 1), 4));
  assert.deepEqual(byKey.get('ns/plain')?.def, plain);
  assert.equal(skipped, 1, 'the held key is skipped (the legacy one has no operator id: not listed as ours)');

  // The spec is valid again: its definition is written, and the mark is gone.
  await mine.upsert(definition('invalid-now'), runState(0));
  assert.ok((await loadAll(mine)).tasks.some((t) => t.taskKey === 'ns/invalid-now'));
});
