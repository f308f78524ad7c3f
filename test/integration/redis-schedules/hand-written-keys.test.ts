// --redis-schedules end to end: a Python program using celerybeat-redis's documented format writes, edits and
// deletes keys while the operator (standalone) runs them on a real Celery worker; an invalid key is skipped
// without disturbing the others; a user's read-modify-write that races a run keeps both the edit and the run;
// and a reader of the documented format loads every key, the operator's clocked one included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { definitionText } from '../../../src/redis-schedules/definition-text.ts';
import { type Execution, startCeleryWorker } from '../../support/celery-worker.ts';
import { counterValue, startOperator } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { startRedisServer } from '../../support/redis-server.ts';

const run = promisify(execFile);
const DOCUMENTED_FORMAT = fileURLToPath(new URL('./celerybeat_redis_format.py', import.meta.url));

async function documented(url: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('/usr/bin/python3', [DOCUMENTED_FORMAT, url, ...args]);
  return stdout;
}

const CLOCKED = `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: once-at-new-year, namespace: default}
spec:
  task: tasks.record
  clocked: "2099-01-01T00:00:00Z"
`;

const nameOf = (e: Execution) => e.request.periodic_task_name;
const slotOf = (e: Execution) => Date.parse(String(e.request.periodic_task_scheduled_at));

test('hand-written keys: write, edit, invalid, racing edit, delete, and a reader of the documented format', {
  timeout: 180_000,
}, async () => {
  const server = await startRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'hand-written-'));
  await writeFile(join(dir, 'clocked.yaml'), CLOCKED);
  const redis = new Redis(server.url);
  const worker = await startCeleryWorker({ brokerUrl: server.url, queues: ['celery'] });
  const operator = startOperator(['--manifests', dir, '--redis-url', server.url, '--redis-schedules']);
  try {
    // 1. A new key runs; the members the user wrote stay exactly as written; the run state is recorded in it.
    const lastRun = new Date(Date.now() - 500).toISOString().replace('Z', '');
    await documented(server.url, 'write', 'tasks:meta:hand-a', '1', JSON.stringify({ last_run_at: lastRun }));
    const written = (await redis.get('tasks:meta:hand-a'))!;
    await worker.waitForExecutions((xs) => xs.filter((e) => nameOf(e) === 'hand-a').length >= 2, 20_000);
    const stored = (await redis.get('tasks:meta:hand-a'))!;
    assert.equal(definitionText(stored), definitionText(written), 'the user members are kept as written');
    assert.match(stored, /,"last_run_at":\{"__type__":"datetime",.*"total_run_count":[1-9]\d*,/);

    // 2. An edit takes effect within 2 s.
    await documented(server.url, 'edit-args', 'tasks:meta:hand-a', 'v2');
    const editedAt = Date.now();
    const afterEdit = await worker.waitForExecutions(
      (xs) => xs.some((e) => nameOf(e) === 'hand-a' && e.args[0] === 'v2'),
      20_000,
    );
    const firstV2 = afterEdit.find((e) => nameOf(e) === 'hand-a' && e.args[0] === 'v2')!;
    assert.ok(
      slotOf(firstV2) <= editedAt + 2000,
      `the edit ran at the slot ${firstV2.request.periodic_task_scheduled_at}`,
    );

    // 3. An invalid key is skipped with a warning naming the key and the member; the others carry on.
    await redis.set(
      'tasks:meta:broken',
      JSON.stringify({ name: 'broken', task: 'tasks.record', crontab: { minute: '61' } }),
    );
    await operator.waitForLog(
      'the invalid key warning',
      (l) =>
        l.msg === 'skipping invalid hand-written key' &&
        l.key === 'tasks:meta:broken' &&
        l.field === 'crontab.minute',
    );
    await waitUntil(
      'the invalid key is counted',
      async () => counterValue(await operator.metrics(), 'celerybeat_store_invalid_keys') === 1,
      10_000,
    );
    const before = (await worker.executions()).filter((e) => nameOf(e) === 'hand-a').length;
    await worker.waitForExecutions(
      (xs) => xs.filter((e) => nameOf(e) === 'hand-a').length >= before + 2,
      20_000,
    );

    // 4. A read-modify-write that races a run: the edit is kept, the run is not undone, no slot runs twice.
    const race = JSON.parse(await documented(server.url, 'race-edit', 'tasks:meta:hand-a', 'v3')) as {
      read_count: number;
    };
    await worker.waitForExecutions(
      (xs) => xs.some((e) => nameOf(e) === 'hand-a' && e.kwargs.edited === 'v3'),
      20_000,
    );
    const count = async () =>
      (JSON.parse((await redis.get('tasks:meta:hand-a'))!) as { total_run_count: number }).total_run_count;
    assert.ok((await count()) > race.read_count + 1, 'the run recorded after the read is still counted');

    // 5. DEL stops the task within 2 s.
    await documented(server.url, 'write', 'tasks:meta:hand-b', '1');
    await worker.waitForExecutions((xs) => xs.some((e) => nameOf(e) === 'hand-b'), 20_000);
    await documented(server.url, 'delete', 'tasks:meta:hand-a');
    const deletedAt = Date.now();
    await operator.waitForLog(
      'the deletion',
      (l) => l.msg === 'hand-written key deleted' && l.key === 'tasks:meta:hand-a',
    );
    const bCount = (await worker.executions()).filter((e) => nameOf(e) === 'hand-b').length;
    const all = await worker.waitForExecutions(
      (xs) => xs.filter((e) => nameOf(e) === 'hand-b').length >= bCount + 2,
      20_000,
    );
    const hand = all.filter((e) => nameOf(e) === 'hand-a');
    assert.ok(
      hand.every((e) => slotOf(e) <= deletedAt + 2000),
      'no run of a deleted key after 2 s',
    );
    assert.equal(new Set(hand.map((e) => e.id)).size, hand.length, 'no task id twice');
    assert.equal(new Set(hand.map(slotOf)).size, hand.length, 'no slot twice');
    assert.ok(all.every((e) => e.outcome === 'succeeded'));

    // 6. A reader of the documented format loads every key, the operator's own clocked key included.
    await redis.del('tasks:meta:broken');
    const loaded = JSON.parse(await documented(server.url, 'load', 'tasks:meta:')) as Record<
      string,
      { schedule: string }
    >;
    assert.match(
      loaded['tasks:meta:default/once-at-new-year']?.schedule ?? '',
      /<crontab: 0 0 \* 1 1 \(m\/h\/dM\/MY\/d\)>|crontab/,
    );
    assert.ok(loaded['tasks:meta:hand-b'], 'the hand-written key is there too');
  } finally {
    await operator.stop();
    await worker.stop();
    redis.disconnect();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
