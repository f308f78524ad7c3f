// The merge patches of run-now, backfill, pause and resume: exactly the fields of the contract
// (src/api/annotations.ts, spec.pause), and nothing else, so the plugin needs only patch on periodictasks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BACKFILL_ANNOTATION,
  RESUMED_AT_ANNOTATION,
  RUN_NOW_ANNOTATION,
} from '../../../src/api/annotations.ts';
import { applyMergePatch } from '../../../src/cli/manifest-edit.ts';
import {
  backfillPatch,
  backfillRange,
  pausePatch,
  pauseSpec,
  resumePatch,
  runNowPatch,
  runNowToken,
} from '../../../src/cli/task-edits.ts';

test('run-now sets the run-now annotation to the token; the default token is the time with milliseconds', () => {
  const token = runNowToken(undefined, new Date('2026-12-02T06:00:00.5Z'));
  assert.equal(token, '2026-12-02T06:00:00.500Z');
  assert.deepEqual(runNowPatch(token), { metadata: { annotations: { [RUN_NOW_ANNOTATION]: token } } });
  assert.equal(RUN_NOW_ANNOTATION, 'celerybeat.io/run-now');
});

test('backfill sets the backfill annotation to <from>/<to>, as given', () => {
  const range = backfillRange('2026-12-01T00:00:00+01:00', '2026-12-01T06:00:00.250Z');
  assert.equal(range, '2026-12-01T00:00:00+01:00/2026-12-01T06:00:00.250Z');
  assert.deepEqual(backfillPatch(range), { metadata: { annotations: { [BACKFILL_ANNOTATION]: range } } });
});

test('pause sets spec.pause to exactly the flags: an until of an earlier pause is removed', () => {
  assert.deepEqual(pausePatch(pauseSpec('db migration', undefined)), {
    spec: { pause: { reason: 'db migration', until: null } },
  });
  assert.deepEqual(pausePatch(pauseSpec('x', '2026-12-24T18:00:00Z')), {
    spec: { pause: { reason: 'x', until: '2026-12-24T18:00:00Z' } },
  });
  const earlier = { spec: { task: 't', pause: { reason: 'old', until: '2026-01-01T00:00:00Z' } } };
  assert.deepEqual(applyMergePatch(earlier, pausePatch(pauseSpec('new', undefined))), {
    spec: { task: 't', pause: { reason: 'new' } },
  });
});

test('resume removes spec.pause (a merge patch null) and sets the resumed-at annotation to the time', () => {
  const now = new Date('2026-12-02T06:00:00.5Z');
  assert.equal(RESUMED_AT_ANNOTATION, 'celerybeat.io/resumed-at');
  assert.deepEqual(resumePatch(now), {
    metadata: { annotations: { [RESUMED_AT_ANNOTATION]: '2026-12-02T06:00:00.500Z' } },
    spec: { pause: null },
  });
  const paused = {
    metadata: { name: 'a', annotations: { other: 'kept' } },
    spec: { task: 't', pause: { reason: 'x' } },
  };
  assert.deepEqual(applyMergePatch(paused, resumePatch(now)), {
    metadata: {
      name: 'a',
      annotations: { other: 'kept', [RESUMED_AT_ANNOTATION]: '2026-12-02T06:00:00.500Z' },
    },
    spec: { task: 't' },
  });
});

test('the patches leave the rest of the object alone', () => {
  const task = { metadata: { name: 'a', annotations: { other: 'kept' } }, spec: { task: 't' } };
  assert.deepEqual(applyMergePatch(task, runNowPatch('t1')), {
    metadata: { name: 'a', annotations: { other: 'kept', [RUN_NOW_ANNOTATION]: 't1' } },
    spec: { task: 't' },
  });
});
