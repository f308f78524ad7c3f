// `kubectl celerybeat history`: the status as facts and a table of recent runs, newest first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { historyLines } from '../../../src/plugin/history-table.ts';

const NOW = Date.parse('2026-12-02T06:00:00Z');

const TASK: PeriodicTask = {
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTask',
  metadata: { name: 'report', namespace: 'apps' },
  spec: {
    task: 'tasks.report',
    cron: '0 3 * * *',
    pause: { reason: 'db migration', until: '2026-12-03T00:00:00Z' },
  },
  status: {
    schedule: 'cron 0 3 * * * UTC',
    lastRunAt: '2026-12-02T03:00:00.000Z',
    totalRunCount: 41,
    lastTaskId: 'b1',
    nextRunAt: '2026-12-03T03:00:00.000Z',
    missedRunCount: 2,
    pausedRunCount: 1,
    lastSuccessfulRunAt: '2026-12-01T03:00:00.000Z',
    lastFailedRunAt: '2026-12-02T03:00:00.000Z',
    lastResult: {
      taskId: 'b1',
      state: 'FAILURE',
      finishedAt: '2026-12-02T03:00:07.120Z',
      error: 'RuntimeError: disk full',
    },
    recentRuns: [
      { slot: '2026-12-01T03:00:00.000Z', taskId: 'a1', state: 'SUCCESS', durationSeconds: 12.5 },
      { slot: '2026-12-02T03:00:00.000Z', taskId: 'b1', state: 'FAILURE', durationSeconds: 7.12 },
    ],
    lastRunNow: '2026-12-02T05:00:00.000Z',
    backfill: {
      range: '2026-11-28T00:00:00Z/2026-12-01T00:00:00Z',
      slots: 3,
      sent: 2,
      alreadyRun: 1,
      state: 'Done',
    },
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Paused',
        message: 'db migration',
        lastTransitionTime: '2026-12-02T05:00:00Z',
      },
    ],
  },
};

test('every status field is shown, with ages, and the recent runs newest first', () => {
  assert.deepEqual(historyLines(TASK, NOW), [
    'PeriodicTask apps/report (tasks.report)',
    'Schedule:         cron 0 3 * * * UTC',
    'Ready:            False/Paused: db migration',
    'Runs:             41',
    'Last run:         2026-12-02T03:00:00.000Z (3h ago), task id b1',
    'Next run:         2026-12-03T03:00:00.000Z (in 21h)',
    'Last result:      FAILURE at 2026-12-02T03:00:07.120Z, task id b1: RuntimeError: disk full',
    'Last success:     2026-12-01T03:00:00.000Z (27h ago)',
    'Last failure:     2026-12-02T03:00:00.000Z (3h ago)',
    'Missed runs:      2',
    'Skipped by pause: 1',
    'Paused:           db migration until 2026-12-03T00:00:00Z',
    'Last run-now:     2026-12-02T05:00:00.000Z',
    'Backfill:         2026-11-28T00:00:00Z/2026-12-01T00:00:00Z: Done, 2 of 3 slot(s) sent, 1 had run already',
    '',
    'Recent runs (newest first):',
    'SLOT                       STATE     DURATION   TASK ID',
    '2026-12-02T03:00:00.000Z   FAILURE   7.12s      b1',
    '2026-12-01T03:00:00.000Z   SUCCESS   12.5s      a1',
  ]);
});

test('a task without status says so', () => {
  const { status: _, ...bare } = TASK;
  assert.deepEqual(historyLines({ ...bare, spec: { task: 'tasks.report', cron: '0 3 * * *' } }, NOW), [
    'PeriodicTask apps/report (tasks.report)',
    'No status yet: the operator has not handled this task.',
  ]);
});
