import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTaskStatus } from '../../../src/api/types.ts';
import { mergeUpdates, statusPatch } from '../../../src/kube/status-patch.ts';

const now = new Date('2026-11-25T09:00:00.123Z');

test('later reports win field by field; unset fields keep earlier values', () => {
  const merged = mergeUpdates(
    { totalRunCount: 1, lastRunAt: 'a', ready: { status: 'True', reason: 'Scheduled', message: '' } },
    { totalRunCount: 2, nextRunAt: 'n' },
  );
  assert.deepEqual(merged, {
    totalRunCount: 2,
    lastRunAt: 'a',
    nextRunAt: 'n',
    ready: { status: 'True', reason: 'Scheduled', message: '' },
  });
});

test('a first Ready condition gets the current time, truncated to seconds, and observedGeneration', () => {
  const patch = statusPatch(
    { observedGeneration: 3, ready: { status: 'True', reason: 'Scheduled', message: '' } },
    undefined,
    now,
  );
  assert.deepEqual(patch, {
    observedGeneration: 3,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Scheduled',
        message: '',
        lastTransitionTime: '2026-11-25T09:00:00Z',
        observedGeneration: 3,
      },
    ],
  });
});

const current: PeriodicTaskStatus = {
  totalRunCount: 4,
  observedGeneration: 2,
  conditions: [
    { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
    {
      type: 'Ready',
      status: 'False',
      reason: 'InvalidSpec',
      message: 'spec.timeZone: unknown zone "Mars/Base"',
      lastTransitionTime: '2026-11-01T00:00:00Z',
      observedGeneration: 2,
    },
  ],
};

test('lastTransitionTime is kept while the status stays, and other conditions are carried along', () => {
  const patch = statusPatch(
    { observedGeneration: 3, ready: { status: 'False', reason: 'Disabled', message: 'enabled is false' } },
    current,
    now,
  );
  assert.equal(patch?.conditions?.length, 2);
  assert.equal(patch?.conditions?.[0]?.type, 'Other');
  assert.deepEqual(patch?.conditions?.[1], {
    type: 'Ready',
    status: 'False',
    reason: 'Disabled',
    message: 'enabled is false',
    lastTransitionTime: '2026-11-01T00:00:00Z',
    observedGeneration: 3,
  });
});

test('a status flip moves lastTransitionTime', () => {
  const patch = statusPatch({ ready: { status: 'True', reason: 'Scheduled', message: '' } }, current, now);
  assert.equal(patch?.conditions?.[1]?.lastTransitionTime, '2026-11-25T09:00:00Z');
  assert.equal(patch?.conditions?.[1]?.observedGeneration, 2);
});

test('a report that changes nothing gives no patch', () => {
  assert.equal(statusPatch({ totalRunCount: 4, observedGeneration: 2 }, current, now), undefined);
  assert.equal(
    statusPatch(
      {
        observedGeneration: 2,
        ready: { status: 'False', reason: 'InvalidSpec', message: 'spec.timeZone: unknown zone "Mars/Base"' },
      },
      current,
      now,
    ),
    undefined,
  );
  assert.deepEqual(statusPatch({ totalRunCount: 5, observedGeneration: 2 }, current, now), {
    totalRunCount: 5,
    observedGeneration: 2,
  });
});

test('no next run: a nextRunAt in the resource is removed (null in the merge patch), an absent one stays absent', () => {
  const withNext: PeriodicTaskStatus = { ...current, nextRunAt: '2026-11-25T08:59:00Z' };
  assert.deepEqual(statusPatch({ totalRunCount: 4, nextRunAt: null }, withNext, now), {
    totalRunCount: 4,
    nextRunAt: null,
  });
  assert.equal(statusPatch({ totalRunCount: 4, nextRunAt: null }, current, now), undefined);
  assert.equal(statusPatch({ nextRunAt: null }, undefined, now), undefined);
});

test('a later "no next run" overrides an earlier next run, and a later next run overrides it back', () => {
  assert.equal(mergeUpdates({ nextRunAt: 'n' }, { nextRunAt: null }).nextRunAt, null);
  assert.equal(mergeUpdates({ nextRunAt: null }, { totalRunCount: 1 }).nextRunAt, null);
  assert.equal(mergeUpdates({ nextRunAt: null }, { nextRunAt: 'm' }).nextRunAt, 'm');
});

test('lastResult is replaced whole (members that no longer hold are nulled); recentRuns only when changed', () => {
  const current = {
    lastResult: {
      taskId: 'a',
      state: 'FAILURE' as const,
      finishedAt: '2026-12-02T06:00:00.000Z',
      error: 'E: x',
    },
    recentRuns: [{ slot: '2026-12-02T06:00:00.000Z', taskId: 'a', state: 'FAILURE' as const }],
  };
  const patch = statusPatch(
    { lastResult: { taskId: 'b', state: 'PENDING' }, recentRuns: current.recentRuns },
    current,
    new Date(),
  );
  assert.deepEqual(patch, { lastResult: { taskId: 'b', state: 'PENDING', finishedAt: null, error: null } });
  assert.equal(
    statusPatch({ lastResult: current.lastResult, recentRuns: current.recentRuns }, current, new Date()),
    undefined,
  );
});
