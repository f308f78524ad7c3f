// What the status layer is told is true at once: nextRunAt goes away when there is no next run, the schedules
// gauge follows runs and edits at scrape time, an invalid task says so in SCHEDULE, and a crontab whose day
// fields a CronJob would read differently, or a solar event that some days lack, gets one Normal Event and a
// Ready message with its next runs.
// The reconciler and the beat against fakes of their interfaces, on a simulated clock.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { StatusProjection } from '../../../src/controller/status-projection.ts';
import { noteWithNextRuns, runStatus } from '../../../src/controller/task-status.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { LogStatusSink } from '../../../src/standalone/log-status-sink.ts';
import { periodicTask, runState } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';
import { ScriptedDispatcher } from '../../support/fakes/scripted-dispatcher.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

const START = Date.UTC(2030, 0, 1);
let clock: SimulatedClock | undefined;

afterEach(() => clock?.reset());

function rig() {
  clock = simulatedClock(START);
  const logger = createLogger('silent');
  const store = new MemoryTaskStore();
  const dispatcher = new ScriptedDispatcher({ store, clock: clock.now });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher,
    listener: new StatusProjection(status).beatListener(events, () => {}),
    logger,
    clock: clock.now,
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: clock.now,
  });
  return { clock, store, status, events, beat, reconciler };
}

/** The gauge as a scrape reads it now. */
async function gauge(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('celerybeat_schedules')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.state), v.value]));
}

function edited(object: PeriodicTask, spec: Partial<PeriodicTask['spec']>): PeriodicTask {
  return { ...object, metadata: { ...object.metadata }, spec: { ...object.spec, ...spec } };
}

test('runStatus says "no next run" with null instead of leaving nextRunAt out', () => {
  assert.equal(runStatus(runState(START), null).nextRunAt, null);
  assert.equal(runStatus(runState(START), START + 1000).nextRunAt, '2030-01-01T00:00:01.000Z');
});

test('a one-off that ran: nextRunAt null, Ready Completed and the gauge says completed before any new pass', async () => {
  const r = rig();
  await r.reconciler.reconcile([periodicTask('once', { oneOff: true })]);
  assert.deepEqual(await gauge(), { scheduled: 1, disabled: 0, completed: 0, invalid: 0 });
  r.beat.start();
  await r.clock.advanceUntil('the run recorded', () => r.store.stateOf('ns/once')?.totalRunCount === 1, 5000);
  const merged = r.status.merged('ns', 'once');
  assert.equal(merged.nextRunAt, null);
  assert.equal(merged.ready?.reason, 'Completed');
  assert.deepEqual(await gauge(), { scheduled: 0, disabled: 0, completed: 1, invalid: 0 });
  await r.beat.stop();
});

test('disabling a task reports nextRunAt null; an invalid spec reports SCHEDULE "invalid" and no next run', async () => {
  const r = rig();
  const a = periodicTask('a');
  await r.reconciler.reconcile([a]);
  assert.ok(r.status.merged('ns', 'a').nextRunAt, 'a scheduled task has a next run');
  await r.reconciler.reconcile([edited(a, { enabled: false })]);
  assert.equal(r.status.merged('ns', 'a').nextRunAt, null);
  assert.deepEqual(await gauge(), { scheduled: 0, disabled: 1, completed: 0, invalid: 0 });
  await r.reconciler.reconcile([edited(a, { timeZone: 'Mars/Base' })]);
  const merged = r.status.merged('ns', 'a');
  assert.equal(merged.schedule, 'invalid');
  assert.equal(merged.nextRunAt, null);
  assert.equal(merged.ready?.reason, 'InvalidSpec');
  assert.deepEqual(await gauge(), { scheduled: 0, disabled: 0, completed: 0, invalid: 1 });
});

test('both day fields restricted: one Normal Event per distinct note, and the note with next runs in Ready', async () => {
  const r = rig();
  // Mondays that are the 1st; a CronJob would also run on every other Monday and every other 1st.
  const fields = { minute: '0', hour: '0', dayOfMonth: '1', dayOfWeek: 'mon' };
  const cron = periodicTask('both', { interval: undefined, crontab: fields });
  await r.reconciler.reconcile([cron]);
  await r.reconciler.reconcile([cron], true);
  assert.equal(r.events.normals.length, 1, 'one Event for one note, however many passes');
  const [event] = r.events.normals;
  assert.equal(event?.reason, 'DayFieldsBothMatch');
  assert.match(event!.message, /must both match/);
  assert.match(
    event!.message,
    /next runs: 2030-04-01T00:00:00Z, 2030-07-01T00:00:00Z, 2031-09-01T00:00:00Z$/,
  );
  const ready = r.status.merged('ns', 'both').ready;
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.reason, 'Scheduled');
  assert.equal(ready?.message, event?.message);

  await r.reconciler.reconcile([
    edited(cron, { crontab: { ...fields, dayOfMonth: '13', dayOfWeek: 'fri' } }),
  ]);
  assert.equal(r.events.normals.length, 2, 'a different note is told again');
  await r.reconciler.reconcile([edited(cron, { crontab: { ...fields, dayOfMonth: '*', dayOfWeek: 'fri' } })]);
  assert.equal(r.events.normals.length, 2, 'no note, no Event');
  assert.equal(r.status.merged('ns', 'both').ready?.message, '');
});

test('a cron string with both day fields restricted: the note says either matches, with those runs', async () => {
  const r = rig();
  const cron = periodicTask('either', { interval: undefined, cron: '0 0 1 * mon' });
  await r.reconciler.reconcile([cron]);
  assert.equal(r.events.normals.length, 1);
  const [event] = r.events.normals;
  assert.equal(event?.reason, 'DayFieldsEitherMatch');
  assert.match(
    event!.message,
    /runs when either matches, as a CronJob does; use `crontab` for Celery's rule/,
  );
  // 2030-01-01 is a Tuesday: the next Mondays, then the 1st of February.
  assert.match(
    event!.message,
    /next runs: 2030-01-07T00:00:00Z, 2030-01-14T00:00:00Z, 2030-01-21T00:00:00Z$/,
  );
  assert.equal(r.status.merged('ns', 'either').ready?.message, event?.message);
  await r.reconciler.reconcile([edited(cron, { cron: '0 0 * * mon' })]);
  assert.equal(r.events.normals.length, 1, 'no note, no Event');
});

test('a solar event in its polar season: the note says days are skipped, with the next days that have it', async () => {
  const r = rig();
  // 2030-01-01 at 78°N is polar night: no sunrise until mid-February.
  const sunrise = periodicTask('dawn', {
    interval: undefined,
    solar: { event: 'sunrise', latitude: 78.22, longitude: 15.65 },
  });
  await r.reconciler.reconcile([sunrise]);
  assert.equal(r.events.normals.length, 1);
  const [event] = r.events.normals;
  assert.equal(event?.reason, 'SolarEventSkipsDays');
  assert.match(event!.message, /^at latitude 78\.22 some days have no sunrise \(polar day or night\)/);
  assert.match(event!.message, /next runs: 2030-02-1\dT\d\d:\d\d:\d\dZ, 2030-02-1\d/);
  const merged = r.status.merged('ns', 'dawn');
  assert.equal(merged.ready?.reason, 'Scheduled');
  assert.equal(merged.ready?.message, event?.message);
  assert.equal(merged.schedule, 'sunrise at 78.22, 15.65');
  assert.match(String(merged.nextRunAt), /^2030-02-1/);
  await r.reconciler.reconcile([
    edited(sunrise, { solar: { event: 'sunrise', latitude: 52.52, longitude: 13.4 } }),
  ]);
  assert.equal(r.events.normals.length, 1, 'a sunrise every day: no note');
});

test('the note drops its final full stop before the next runs, and stays whole when there are none', () => {
  const schedule = compileSchedule({ kind: 'clocked', at: START + 1000 }, 'UTC');
  assert.equal(noteWithNextRuns('Both.', schedule, START), 'Both; next runs: 2030-01-01T00:00:01Z');
  assert.equal(noteWithNextRuns('Both.', schedule, START + 1000), 'Both');
});

test('standalone wiring: one "task sent" line per run, logged by the beat, none by the log status sink', async () => {
  clock = simulatedClock(START);
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
  const store = new MemoryTaskStore();
  const status = new LogStatusSink(logger);
  const beat = new Beat({
    dispatcher: new ScriptedDispatcher({ store, clock: clock.now }),
    listener: new StatusProjection(status).beatListener({ warning: () => {}, normal: () => {} }, () => {}),
    logger,
    clock: clock.now,
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events: { warning: () => {}, normal: () => {} },
    logger,
    defaultTimeZone: 'UTC',
    clock: clock.now,
  });
  await reconciler.reconcile([periodicTask('a')]);
  beat.start();
  await clock.advanceUntil('three runs', () => store.stateOf('ns/a')?.totalRunCount === 3, 10_000);
  await beat.stop();
  const sent = lines.filter((l) => l.msg === 'task sent');
  assert.deepEqual(
    sent.map((l) => [l.level, l.totalRunCount]),
    [
      ['info', 1],
      ['info', 2],
      ['info', 3],
    ],
  );
  assert.equal(sent[0]?.nextRunAt, '2030-01-01T00:00:02.000Z');
});
