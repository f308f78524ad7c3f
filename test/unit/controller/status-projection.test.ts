// projectStatus, the one function a task's status comes from: which input gives which field, and which of the
// definition's state, a problem and Scheduled makes the Ready condition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectStatus, StatusProjection } from '../../../src/controller/status-projection.ts';
import { readyCondition } from '../../../src/controller/task-status.ts';
import { statusPatch } from '../../../src/kube/status-patch.ts';
import { definition, runState } from '../../support/fakes/definitions.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';

const NOW = Date.UTC(2030, 0, 1);
const def = definition('a');
const run = {
  state: runState(NOW, { totalRunCount: 2, lastTaskSlot: NOW, pausedRunCount: 3 }),
  nextRunAt: NOW + 1000,
};
const problem = readyCondition('False', 'PublishFailed', 'the broker said no');

test('a definition the reconciler applied gives observedGeneration and SCHEDULE; the run state gives the counts', () => {
  assert.deepEqual(projectStatus({ definition: { def, observed: true }, run, now: NOW }), {
    observedGeneration: 1,
    schedule: 'every 1 second',
    totalRunCount: 2,
    missedRunCount: 0,
    pausedRunCount: 3,
    unknownRunCount: null,
    lastRunAt: '2030-01-01T00:00:00.000Z',
    nextRunAt: '2030-01-01T00:00:01.000Z',
    ready: readyCondition('True', 'Scheduled', ''),
  });
  assert.equal(
    projectStatus({ definition: { def }, run, now: NOW }).schedule,
    undefined,
    'not observed: no SCHEDULE',
  );
});

test('Ready: a problem over Scheduled, the definition over a problem, an invalid spec over everything', () => {
  assert.deepEqual(projectStatus({ definition: { def }, run, problem, now: NOW }).ready, problem);
  const disabled = { def: { ...def, enabled: false } };
  assert.equal(projectStatus({ definition: disabled, run, problem, now: NOW }).ready?.reason, 'Disabled');
  const invalid = projectStatus({ definition: { invalid: 'spec.x: no', generation: 4 }, problem, now: NOW });
  assert.deepEqual(invalid, {
    observedGeneration: 4,
    schedule: 'invalid',
    nextRunAt: null,
    ready: readyCondition('False', 'InvalidSpec', 'spec.x: no'),
  });
  assert.deepEqual(projectStatus({ problem, now: NOW }), { ready: problem }, 'a problem alone');
});

test('a key that is someone else’s has no next run; results and manual runs are their own fields', () => {
  const conflict = readyCondition('False', 'KeyConflict', 'taken');
  assert.deepEqual(projectStatus({ problem: conflict, noNextRun: true, now: NOW }), {
    nextRunAt: null,
    ready: conflict,
  });
  const results = { lastSuccessfulRunAt: '2030-01-01T00:00:00.000Z', recentRuns: [] };
  assert.deepEqual(projectStatus({ results, manual: { lastRunNow: 't1' }, now: NOW }), {
    ...results,
    lastRunNow: 't1',
  });
});

test('pauseAfterFailures: the count is shown (zero too), Ready says the task is paused by its failures, or that the field is inert', () => {
  const counting = definition('a', { pauseAfterFailures: 2 });
  const failing = runState(NOW, { failures: { count: 1, slot: NOW, taskId: 't1' } });
  const once = projectStatus({
    definition: { def: counting },
    run: { state: failing, nextRunAt: NOW },
    now: NOW,
  });
  assert.equal(once.consecutiveFailures, 1);
  assert.equal(once.ready?.status, 'True');
  const cleared = projectStatus({
    definition: { def: counting },
    run: { state: runState(NOW), nextRunAt: NOW },
    now: NOW,
  });
  assert.equal(cleared.consecutiveFailures, 0, 'zero is written, so a success clears the count shown');
  assert.equal(projectStatus({ definition: { def }, run, now: NOW }).consecutiveFailures, undefined);
  const paused = runState(NOW, { failures: { count: 2, slot: NOW, taskId: 't2', exception: 'KeyError' } });
  const ready = projectStatus({
    definition: { def: counting },
    run: { state: paused, nextRunAt: null },
    now: NOW,
  }).ready;
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'Paused');
  assert.equal(
    ready?.message,
    'paused after 2 failed runs in a row (spec.pauseAfterFailures: 2); the last: task t2 (KeyError); "kubectl celerybeat resume" (or the celerybeat.io/resumed-at annotation) resumes it',
  );
  // A resume the run state has not applied yet: no longer paused in the status either.
  const resuming = projectStatus({
    definition: { def: { ...counting, resumedAt: NOW } },
    run: { state: paused, nextRunAt: NOW },
    now: NOW,
  }).ready;
  assert.equal(resuming?.status, 'True');
  const inert = projectStatus({
    definition: { def: definition('a', { inertPauseAfterFailures: 2 }) },
    run,
    now: NOW,
  }).ready;
  assert.deepEqual(
    inert,
    readyCondition(
      'True',
      'Scheduled',
      'spec.pauseAfterFailures has no effect: the operator runs without --result-backend, so it cannot see failed runs',
    ),
  );
});

test('a pause by failures the beat recorded is a Warning Event naming the count, the last run and how to resume', () => {
  const events = new RecordingEvents();
  const listener = new StatusProjection(new RecordingStatusSink()).beatListener(events, () => {});
  const def = definition('fails', { pauseAfterFailures: 2 });
  listener.pausedByFailures?.(def, {
    ...runState(0),
    failures: { count: 2, slot: NOW, taskId: 'id-2', exception: 'RuntimeError' },
  });
  assert.equal(events.warnings.length, 1);
  assert.equal(events.warnings[0]?.reason, 'PausedAfterFailures');
  assert.match(
    events.warnings[0]?.message ?? '',
    /paused after 2 failed runs in a row .*id-2 \(RuntimeError\).*resume/,
  );
});

test('a count back at zero (a run state recovered without it) removes the field, so the status is what Redis holds', () => {
  const shown = { totalRunCount: 5, missedRunCount: 1, pausedRunCount: 113, unknownRunCount: 1 };
  const update = projectStatus({
    run: { state: runState(NOW, { totalRunCount: 5, missedRunCount: 1 }), nextRunAt: null },
    now: NOW,
  });
  const patch = statusPatch(update, shown, new Date(NOW));
  assert.equal(patch?.pausedRunCount, null, 'removed');
  assert.equal(patch?.unknownRunCount, null, 'removed');
  const none = statusPatch(update, { totalRunCount: 5, missedRunCount: 1 }, new Date(NOW));
  assert.equal(none, undefined, 'and nothing to write where they were never shown');
});
