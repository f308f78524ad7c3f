// The operator in standalone mode against a real Redis and a real Celery worker, in real time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import { promisify } from 'node:util';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { intervalTask, type ManifestDir } from '../../support/manifests.ts';
import { counterValue } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const run = promisify(execFile);
const bed = useStandaloneBed();
let dir: ManifestDir;

before(async () => {
  dir = await bed.manifests();
});

test('a task every second runs on a worker with its args, kwargs and headers, and its key advances', async () => {
  const queue = 'beat-every-second';
  await dir.write(
    'every-second.yaml',
    intervalTask('every-second', 1, {
      args: [16, 16],
      kwargs: { max_targets: 100, note: 'héllo', nested: { a: [1, 2] } },
      options: { queue, headers: { tenant: 'acme' } },
    }),
  );
  const worker = await startCeleryWorker({ brokerUrl: bed.server.url, queues: [queue] });
  const operator = bed.operator(dir);
  try {
    const executions = await worker.waitForExecutions(3, 20_000);
    for (const e of executions.slice(0, 3)) {
      assert.equal(e.task, 'tasks.record');
      assert.deepEqual(e.args, [16, 16]);
      assert.deepEqual(e.kwargs, { max_targets: 100, note: 'héllo', nested: { a: [1, 2] } });
      assert.equal(e.request.periodic_task_name, 'default/every-second');
      assert.equal(e.request.tenant, 'acme');
      const slot = Date.parse(String(e.request.periodic_task_scheduled_at));
      assert.ok(Number.isFinite(slot), 'periodic_task_scheduled_at is an ISO time');
    }
    const ids = new Set(executions.map((e) => e.id));
    assert.equal(ids.size, executions.length, 'one task id per slot');
    const slots = executions.map((e) => Date.parse(String(e.request.periodic_task_scheduled_at))).sort();
    for (let i = 1; i < slots.length; i += 1)
      assert.equal(slots[i]! - slots[i - 1]!, 1000, 'slots are on a 1 s grid');

    const first = JSON.parse((await bed.redis.get('tasks:meta:default/every-second'))!);
    assert.equal(first.name, 'default/every-second');
    assert.equal(first.task, 'tasks.record');
    assert.equal(first.enabled, true);
    assert.deepEqual(first.interval, { every: 1, period: 'seconds' });
    assert.deepEqual(first.args, [16, 16]);
    assert.equal(first.queue, queue);
    assert.equal(first.last_run_at.__type__, 'datetime');
    assert.ok(first.total_run_count >= 3);
    assert.deepEqual(first.owner.namespace, 'default');
    let later = first;
    await waitUntil(
      'two more runs',
      async () => {
        later = JSON.parse((await bed.redis.get('tasks:meta:default/every-second'))!);
        return later.total_run_count >= first.total_run_count + 2;
      },
      10_000,
    );
    assert.ok(later.total_run_count >= first.total_run_count + 2, 'total_run_count advances');
    const at = (v: { last_run_at: Record<string, number> }): number =>
      Date.UTC(
        v.last_run_at.year!,
        v.last_run_at.month! - 1,
        v.last_run_at.day,
        v.last_run_at.hour,
        v.last_run_at.minute,
        v.last_run_at.second,
      ) +
      v.last_run_at.microsecond! / 1000;
    assert.ok(at(later) >= at(first) + 2000, 'last_run_at advances');
  } finally {
    assert.equal(await operator.stop(), 0, 'SIGTERM exits 0');
    await worker.stop();
  }
});

const PYTHON_READER = `
import json, sys, datetime
import redis
from celery.schedules import schedule, crontab

def decode(o):
    if o.get('__type__') == 'datetime':
        rest = {k: v for k, v in o.items() if k != '__type__'}
        return datetime.datetime(**rest)
    return o

r = redis.Redis.from_url(sys.argv[1])
value = json.loads(r.get(sys.argv[2]), object_hook=decode)
last = value['last_run_at'].replace(tzinfo=datetime.timezone.utc)
if 'interval' in value:
    s = schedule(datetime.timedelta(**{value['interval']['period']: value['interval']['every']}))
    nxt = last + s.run_every
else:
    base, delta, _now = crontab(**value['crontab']).remaining_delta(last)
    nxt = base + delta
print(nxt.astimezone(datetime.timezone.utc).isoformat())
`;

test('a Python program reading the key the documented way computes the same next run', async () => {
  await dir.write('python-reader.yaml', intervalTask('python-reader', 7));
  await dir.write('python-cron.yaml', {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'python-cron', namespace: 'default' },
    spec: { task: 'tasks.record', crontab: { minute: '*/15', hour: '8-17', dayOfWeek: 'mon-fri' } },
  });
  // CronJob strings: written as the crontab of the same values, and an @every as its interval.
  await dir.write('python-cronjob.yaml', {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'python-cronjob', namespace: 'default' },
    spec: { task: 'tasks.record', cron: '*/20 9-11 * JAN-DEC MON-FRI' },
  });
  await dir.write('python-every.yaml', {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'python-every', namespace: 'default' },
    spec: { task: 'tasks.record', cron: '@every 1m30s' },
  });
  const operator = bed.operator(dir);
  try {
    for (const name of ['python-cron', 'python-cronjob', 'python-every']) {
      await operator.waitForLog(`${name} reconciled`, (l) => l.name === name && l.msg === 'task status');
    }
    for (const name of ['python-reader', 'python-cron', 'python-cronjob', 'python-every']) {
      const { stdout } = await run('/usr/bin/python3', [
        '-c',
        PYTHON_READER,
        bed.server.url,
        `tasks:meta:default/${name}`,
      ]);
      const status = operator.logs().find((l) => l.name === name && l.nextRunAt !== undefined);
      assert.ok(status, `the operator logged ${name}'s next run`);
      assert.equal(Date.parse(stdout.trim()), Date.parse(String(status.nextRunAt)), name);
    }
  } finally {
    await operator.stop();
  }
});

test('two instances without leader election publish every slot exactly once', async () => {
  const queue = 'beat-two-instances';
  // A namespace of its own: the published counters must count these two tasks only (the keys of the file's
  // earlier tests are in the same Redis, and each instance dispatches them from the store at start).
  const dir = await bed.manifests();
  await dir.write(
    'two.yaml',
    intervalTask('two-a', 1, { options: { queue } }, 'two'),
    intervalTask('two-b', 1, { options: { queue } }, 'two'),
  );
  const a = bed.operator(dir, ['--leader-elect', 'none']);
  const b = bed.operator(dir, ['--leader-elect', 'none']);
  let published = 0;
  let duplicates = 0;
  try {
    await new Promise((r) => setTimeout(r, 30_000));
    for (const text of await Promise.all([a.metrics(), b.metrics()])) {
      published += counterValue(
        text,
        'celerybeat_namespace_slots_total{task_namespace="two",outcome="published"}',
      );
      duplicates += counterValue(text, 'celerybeat_dispatches_total{result="duplicate"}');
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await dir.remove();
  }
  const messages = (await bed.redis.lrange(queue, 0, -1)).map((raw) => JSON.parse(raw).headers);
  const bySlot = new Map<string, number>();
  for (const h of messages) {
    const slot = `${h.periodic_task_name}@${h.periodic_task_scheduled_at}`;
    bySlot.set(slot, (bySlot.get(slot) ?? 0) + 1);
  }
  assert.ok(messages.length >= 50, `both tasks ran about every second (${messages.length} messages)`);
  // Both instances planned every slot; the claim in Redis let exactly one of them publish it.
  assert.ok(
    duplicates >= messages.length / 2,
    `the instances raced for the slots (${duplicates} refused claims)`,
  );
  // Read before stopping: the few slots published between the read and the stop are in the queue only.
  assert.ok(
    published <= messages.length && published >= messages.length - 10,
    `published counts match the queue (${published}, ${messages.length})`,
  );
  assert.deepEqual(
    [...bySlot.values()].filter((n) => n > 1),
    [],
    'no slot published twice',
  );
  assert.equal(new Set(messages.map((h) => h.id)).size, messages.length, 'distinct task ids');
});
