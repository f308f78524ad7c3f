// import --from celery-app with Debian's Celery 5.2.6: a project whose beat_schedule uses numbers, timedeltas,
// crontabs (in the app's zone), kombu queues, solar, relative and a custom class; the run state read from a
// beat state file that Celery's own PersistentScheduler wrote.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { importedTasks, PYTHON, reported, runCli, runPython } from './run-import.ts';

const PROJECT = `from datetime import timedelta
from celery import Celery
from celery.schedules import crontab, schedule, solar
from kombu import Queue

print('the app prints while it loads')
app = Celery('proj', broker='memory://')
app.conf.timezone = 'Europe/Berlin'


class EveryOtherRun(schedule):
    pass


app.conf.beat_schedule = {
    'Add every 30s': {'task': 'tasks.add', 'schedule': 30.0, 'args': (16, 16),
                      'options': {'queue': Queue('math'), 'expires': 25, 'priority': 3}},
    'every-5-minutes': {'task': 'tasks.add', 'schedule': timedelta(minutes=5), 'kwargs': {'x': 1}},
    'fast': {'task': 'tasks.record', 'schedule': timedelta(microseconds=7500)},
    'monday-morning': {'task': 'tasks.add', 'schedule': crontab(minute=30, hour=7, day_of_week='mon')},
    'quarters': {'task': 'tasks.add', 'schedule': crontab(minute={0, 15, 30, 45})},
    'limits': {'task': 'tasks.add', 'schedule': 60, 'options': {'time_limit': 30, 'soft_time_limit': 20,
                                                               'headers': {'tenant': 'acme'}}},
    'rounded': {'task': 'tasks.add', 'schedule': 3600, 'relative': True},
    'at-sunset': {'task': 'tasks.add', 'schedule': solar('sunset', 52.5, 13.4)},
    'custom': {'task': 'tasks.add', 'schedule': EveryOtherRun(timedelta(seconds=3))},
    'later': {'task': 'tasks.add', 'schedule': 60, 'options': {'countdown': 5}},
}
`;

// Celery's own scheduler writes the state file, with the run state a running beat would have left.
const WRITE_STATE = `import sys
from datetime import datetime, timezone
sys.path.insert(0, '.')
from celery.beat import PersistentScheduler
from proj.celery import app
scheduler = PersistentScheduler(app=app, schedule_filename='celerybeat-schedule', lazy=False)
entry = scheduler.schedule['Add every 30s']
entry.last_run_at = datetime(2026, 11, 24, 10, 0, 5, 250000, tzinfo=timezone.utc).astimezone(app.timezone)
entry.total_run_count = 12
scheduler.sync()
scheduler.close()
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'celery-app-'));
  await mkdir(join(dir, 'proj'));
  await writeFile(join(dir, 'proj', '__init__.py'), '');
  await writeFile(join(dir, 'proj', 'celery.py'), PROJECT);
  await writeFile(join(dir, 'write_state.py'), WRITE_STATE);
  await runPython(['write_state.py'], dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('celery-app: beat_schedule entries, the app zone, run state from the beat state file', async () => {
  const result = await runCli([
    'import',
    '--from',
    'celery-app',
    'proj.celery:app',
    '--python',
    PYTHON,
    '--workdir',
    dir,
    '--schedule-file',
    'celerybeat-schedule',
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stdout, /prints while it loads/);
  const problems = reported(result.stderr);
  assert.deepEqual([...problems.keys()].sort(), ['custom', 'later', 'rounded']);
  assert.match(problems.get('rounded')!, /relative=True/);
  assert.match(problems.get('custom')!, /schedule class proj\.celery\.EveryOtherRun cannot be expressed/);
  assert.match(problems.get('later')!, /option "countdown"/);
  const tasks = await importedTasks(result);
  const add = tasks.get('Add every 30s')!;
  assert.equal(add.metadata.name, 'add-every-30s');
  assert.deepEqual(add.spec, {
    task: 'tasks.add',
    interval: { every: 30, period: 'seconds' },
    args: [16, 16],
    options: {
      queue: 'math',
      expires: 25,
      priority: 3,
    },
  });
  assert.equal(add.metadata.annotations?.['celerybeat.io/original-name'], 'Add every 30s');
  assert.equal(add.metadata.annotations?.['celerybeat.io/last-run-at'], '2026-11-24T10:00:05.250Z');
  assert.equal(add.metadata.annotations?.['celerybeat.io/total-run-count'], '12');
  // Entries that never ran still have the time beat first saw them: their next run is one interval later.
  assert.ok(tasks.get('every-5-minutes')!.metadata.annotations?.['celerybeat.io/last-run-at']);
  assert.equal(tasks.get('every-5-minutes')!.metadata.annotations?.['celerybeat.io/total-run-count'], '0');
  assert.deepEqual(tasks.get('every-5-minutes')!.spec.interval, { every: 5, period: 'minutes' });
  assert.deepEqual(tasks.get('fast')!.spec.interval, { every: 7500, period: 'microseconds' });
  const monday = tasks.get('monday-morning')!;
  assert.deepEqual(monday.spec.crontab, {
    minute: '30',
    hour: '7',
    dayOfWeek: 'mon',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  assert.equal(monday.spec.timeZone, 'Europe/Berlin');
  // A solar entry keeps Celery's arguments and needs no zone (its events are instants).
  const sunset = tasks.get('at-sunset')!;
  assert.deepEqual(sunset.spec.solar, { event: 'sunset', latitude: 52.5, longitude: 13.4 });
  assert.equal(sunset.spec.timeZone, undefined);
  assert.equal(tasks.get('quarters')!.spec.crontab?.minute, '0,15,30,45');
  assert.deepEqual(tasks.get('limits')!.spec.options, {
    timeLimit: 30,
    softTimeLimit: 20,
    headers: { tenant: 'acme' },
  });
});

test('celery-app: without a state file nothing is carried; an app that does not load is one line', async () => {
  const plain = await runCli([
    'import',
    '--from',
    'celery-app',
    'proj.celery',
    '--python',
    PYTHON,
    '--workdir',
    dir,
  ]);
  const tasks = await importedTasks(plain);
  assert.equal(tasks.get('Add every 30s')!.metadata.annotations?.['celerybeat.io/last-run-at'], undefined);
  const missing = await runCli([
    'import',
    '--from',
    'celery-app',
    'proj.nope:app',
    '--python',
    PYTHON,
    '--workdir',
    dir,
  ]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^celerybeat-operator import: cannot load proj\.nope:app: ModuleNotFoundError: No module named 'proj\.nope'\n$/,
  );
  const noPython = await runCli([
    'import',
    '--from',
    'celery-app',
    'proj.celery:app',
    '--python',
    join(dir, 'no-python'),
  ]);
  assert.equal(noPython.code, 1);
  assert.match(noPython.stderr, /cannot run .*no-python: spawn .* ENOENT/);
  const noState = await runCli([
    'import',
    '--from',
    'celery-app',
    'proj.celery:app',
    '--python',
    PYTHON,
    '--workdir',
    dir,
    '--schedule-file',
    'gone',
  ]);
  assert.equal(noState.code, 1);
  assert.match(noState.stderr, /no beat schedule file at .*gone/);
});
