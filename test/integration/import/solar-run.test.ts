// A django-celery-beat solar row (made by its ORM) → `import` → a standalone operator → a real Celery worker: the
// task runs at the event's minute. No clock is faked: the row's place is chosen so that its sunset is a couple of
// minutes away (a place 1° further east sees its events 4 minutes earlier), and the event's time the run is held
// to is ephem's (the library Celery's solar uses), not the operator's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { equinoxCrontab } from '../../../src/schedule/solar-events.ts';
import { startCeleryWorker } from '../../support/celery-worker.ts';
import { startOperator } from '../../support/operator-process.ts';
import { startRedisServer } from '../../support/redis-server.ts';
import { PYTHON, runCli, runPython } from './run-import.ts';

const DJANGO_DB = fileURLToPath(new URL('./django_beat_db.py', import.meta.url));
const EPHEM = fileURLToPath(new URL('../../unit/schedule/solar_ephem.py', import.meta.url));
const QUEUE = 'import-solar';
const LATITUDE = 40;
/** How far ahead the event is placed: room for the database, the import and the operator's start. */
const LEAD_MS = 90_000;
const HOUR_MS = 3_600_000;

/** A longitude (6 decimals, as django-celery-beat's column keeps it) whose next sunset is at about `target`. */
function longitudeWithSunsetAt(target: number): number {
  let longitude = 0;
  for (let i = 0; i < 6; i++) {
    const documented = { crontab: equinoxCrontab('sunset', LATITUDE, longitude) };
    const schedule = compileSchedule(
      { kind: 'solar', event: 'sunset', latitude: LATITUDE, longitude, documented },
      'UTC',
    );
    const sunset = schedule.next(target - 12 * HOUR_MS)!;
    // Later than the target: move east, where it comes earlier.
    longitude += (sunset - target) / 240_000;
    longitude = Number((((longitude + 540) % 360) - 180).toFixed(6));
  }
  return longitude;
}

/** ephem's first sunset at the place after `from`, observed as Celery observes it. */
function ephemSunset(longitude: number, from: number): number {
  const run = spawnSync(PYTHON, [EPHEM], {
    input: JSON.stringify({
      cases: [{ event: 'sunset', lat: LATITUDE, lon: longitude }],
      from,
      to: from + 24 * HOUR_MS,
    }),
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const first = (JSON.parse(run.stdout) as number[][])[0]?.[0];
  assert.ok(first !== undefined, 'ephem found the sunset');
  return first;
}

test('an imported django-celery-beat solar row runs on a real worker at the event’s minute', {
  timeout: 300_000,
}, async () => {
  const target = Date.now() + LEAD_MS;
  const longitude = longitudeWithSunsetAt(target);
  const event = ephemSunset(longitude, target - 12 * HOUR_MS);
  assert.ok(Math.abs(event - target) < 60_000, `the sunset at ${longitude} is near the target by ephem too`);

  const server = await startRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'import-solar-'));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  const worker = await startCeleryWorker({ brokerUrl: server.url, queues: [QUEUE] });
  let operator: ReturnType<typeof startOperator> | undefined;
  try {
    const sqlite = join(dir, 'beat.sqlite3');
    await runPython([
      DJANGO_DB,
      JSON.stringify({ ENGINE: 'django.db.backends.sqlite3', NAME: sqlite }),
      JSON.stringify([
        {
          name: 'Lights On',
          task: 'tasks.record',
          solar: { event: 'sunset', latitude: LATITUDE.toFixed(6), longitude: longitude.toFixed(6) },
          args: '["at sunset"]',
          queue: QUEUE,
        },
      ]),
    ]);
    const imported = await runCli([
      'import',
      '--from',
      'django-celery-beat',
      '--database',
      `sqlite:///${sqlite}`,
    ]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /solar:\n\s+event: sunset\n/);
    await writeFile(join(manifests, 'imported.yaml'), imported.stdout);
    operator = startOperator(['--manifests', manifests, '--redis-url', server.url, '--leader-elect', 'none']);
    await operator.waitForLog(
      'the task',
      (l) => l.msg === 'task reconciled' && l.name === 'lights-on',
      60_000,
    );
    assert.ok(Date.now() < event - 5000, 'the operator saw the task before its event');

    const runs = await worker.waitForExecutions(
      (xs) => xs.some((x) => x.request.periodic_task_name === 'default/lights-on'),
      event - Date.now() + 60_000,
    );
    const [run, ...more] = runs.filter((x) => x.request.periodic_task_name === 'default/lights-on');
    assert.equal(more.length, 0, 'one run');
    assert.deepEqual(run!.args, ['at sunset']);
    const slot = Date.parse(String(run!.request.periodic_task_scheduled_at));
    assert.ok(
      Math.abs(slot - event) < 60_000,
      `slot ${new Date(slot).toISOString()}, ephem ${new Date(event).toISOString()}`,
    );
    assert.ok(run!.startedAt >= slot, 'not before its slot');
    assert.ok(
      run!.startedAt - event < 60_000,
      `ran at ${new Date(run!.startedAt).toISOString()}, within the event's minute`,
    );
  } finally {
    await operator?.stop();
    await worker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
