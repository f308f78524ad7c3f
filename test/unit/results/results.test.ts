// Result documents as Celery's Redis backend stores them, the per-task history built from them, and the
// status fields it gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResultMeta } from '../../../src/results/result-meta.ts';
import { RECENT_RUNS, RunHistory } from '../../../src/results/run-history.ts';

test('a stored result: state, date_done, and only the last line of the traceback', () => {
  const success = parseResultMeta(
    'a',
    '{"status": "SUCCESS", "result": "secret", "traceback": null, "children": [], "date_done": "2026-12-02T06:00:01.500000", "task_id": "a"}',
  );
  assert.deepEqual(success, {
    taskId: 'a',
    state: 'SUCCESS',
    finishedAt: Date.UTC(2026, 11, 2, 6, 0, 1, 500),
    error: null,
  });
  const failure = parseResultMeta(
    'b',
    JSON.stringify({
      status: 'FAILURE',
      result: { exc_type: 'RuntimeError', exc_message: ['disk full'] },
      traceback:
        'Traceback (most recent call last):\n  File "tasks.py", line 3, in fail\n    raise RuntimeError(x)\nRuntimeError: disk full\n',
      date_done: '2026-12-02T06:00:02+00:00',
    }),
  );
  assert.equal(failure?.error, 'RuntimeError: disk full');
  assert.equal(failure?.finishedAt, Date.UTC(2026, 11, 2, 6, 0, 2));
  const started = parseResultMeta('c', '{"status": "STARTED", "result": {"pid": 1}, "date_done": null}');
  assert.deepEqual(started, { taskId: 'c', state: 'STARTED', finishedAt: null, error: null });
  assert.equal(parseResultMeta('d', '{"status": "WEIRD"}'), null);
  assert.equal(parseResultMeta('d', 'not json'), null);
  const long = parseResultMeta('e', JSON.stringify({ status: 'RETRY', traceback: `X: ${'y'.repeat(1000)}` }));
  assert.ok((long?.error?.length ?? 0) <= 300);
});

test('the history keeps the last 10 runs, newest first, and its status says what is known', () => {
  const h = new RunHistory();
  for (let i = 0; i < 12; i += 1) h.add(i * 1000, `id-${i}`, i * 1000 + 5);
  assert.equal(h.runs.length, RECENT_RUNS);
  assert.equal(h.runs[0]?.taskId, 'id-11');
  assert.equal(h.status().lastResult, undefined, 'nothing known yet');
  assert.ok(h.apply({ taskId: 'id-10', state: 'FAILURE', finishedAt: 10_505, error: 'E: x' }));
  assert.equal(
    h.apply({ taskId: 'id-10', state: 'FAILURE', finishedAt: 10_505, error: 'E: x' }),
    null,
    'no change',
  );
  h.apply({ taskId: 'id-9', state: 'SUCCESS', finishedAt: 9_105, error: null });
  const status = h.status();
  assert.deepEqual(status.lastResult, {
    taskId: 'id-10',
    state: 'FAILURE',
    finishedAt: new Date(10_505).toISOString(),
    error: 'E: x',
  });
  assert.equal(status.lastFailedRunAt, new Date(10_000).toISOString());
  assert.equal(status.lastSuccessfulRunAt, new Date(9_000).toISOString());
  assert.deepEqual(status.recentRuns?.[1], {
    slot: new Date(10_000).toISOString(),
    taskId: 'id-10',
    state: 'FAILURE',
    durationSeconds: 0.5,
  });
  assert.deepEqual(
    h.following(12_000).map((r) => r.taskId),
    ['id-11', 'id-8', 'id-7', 'id-6', 'id-5', 'id-4', 'id-3', 'id-2'],
  );
  assert.deepEqual(h.following(12_000 + 25 * 3600_000), [], 'not followed after a day');
});
