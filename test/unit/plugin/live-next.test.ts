// `kubectl celerybeat next` for a task on the API server: the operator's validator and schedule engine,
// continued from the status (last run, or a new interval task's next run), with jitter and pause.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTask, PeriodicTaskSpec, PeriodicTaskStatus } from '../../../src/api/types.ts';
import { liveNextRuns } from '../../../src/plugin/live-next.ts';
import { jitterOffsetMs } from '../../../src/schedule/jitter.ts';

const NOW = Date.parse('2026-12-02T06:00:10Z');
const iso = (times: number[]) => times.map((t) => new Date(t).toISOString());

function task(spec: Partial<PeriodicTaskSpec>, status?: PeriodicTaskStatus): PeriodicTask {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'report', namespace: 'apps', uid: 'u-1', generation: 2 },
    spec: { task: 'tasks.report', ...spec },
    ...(status ? { status } : {}),
  };
}

function times(t: PeriodicTask, count = 3): string[] {
  const r = liveNextRuns(t, NOW, count, 'UTC');
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.key, 'apps/report');
  return iso(r.times);
}

test('an interval continues on the grid of its last run, after now', () => {
  const t = task({ interval: { every: 30, period: 'seconds' } }, { lastRunAt: '2026-12-02T05:00:05.000Z' });
  assert.deepEqual(times(t), [
    '2026-12-02T06:00:35.000Z',
    '2026-12-02T06:01:05.000Z',
    '2026-12-02T06:01:35.000Z',
  ]);
});

test('a new interval task follows the next run in its status (the operator saw it first)', () => {
  const status = { nextRunAt: '2026-12-02T06:00:20.500Z', observedGeneration: 2 };
  const t = task({ interval: { every: 30, period: 'seconds' } }, status);
  assert.deepEqual(times(t, 2), ['2026-12-02T06:00:20.500Z', '2026-12-02T06:00:50.500Z']);
  // During a pause the status holds the pause's end, which is not on the grid.
  const until = '2026-12-02T06:00:30Z';
  const paused = task(
    { interval: { every: 30, period: 'seconds' }, pause: { reason: 'x', until } },
    {
      ...status,
      nextRunAt: until,
    },
  );
  assert.deepEqual(times(paused, 1), ['2026-12-02T06:00:40.000Z']);
  // A status of an older generation says nothing about this spec: as if first seen now.
  const stale = task({ interval: { every: 30, period: 'seconds' } }, { ...status, observedGeneration: 1 });
  assert.deepEqual(times(stale, 1), ['2026-12-02T06:00:40.000Z']);
});

test('a crontab in its time zone; the default zone is the flag', () => {
  const t = task({ crontab: { minute: '0', hour: '3' } });
  assert.deepEqual(times(t, 2), ['2026-12-03T03:00:00.000Z', '2026-12-04T03:00:00.000Z']);
  const r = liveNextRuns(t, NOW, 1, 'Europe/Berlin');
  assert.deepEqual(r.ok && iso(r.times), ['2026-12-03T02:00:00.000Z']);
});

test('jitter moves each run by the same offset the beat uses; a due slot whose run time is ahead is shown', () => {
  const t = task(
    { interval: { every: 1, period: 'hours' }, jitterSeconds: 600 },
    { lastRunAt: '2026-12-02T05:00:00Z' },
  );
  // 06:00 is due (now is 06:00:10) but its offset puts its run a few minutes later: it has not run yet.
  const slots = [Date.parse('2026-12-02T06:00:00Z'), Date.parse('2026-12-02T07:00:00Z')];
  const expected = slots.map((s) => s + jitterOffsetMs('apps/report', 'u-1', s, 600_000));
  assert.ok(expected[0]! > NOW);
  assert.deepEqual(times(t, 2), iso(expected));
  assert.ok(
    expected.some((e, i) => e !== slots[i]),
    'the offsets are not all zero',
  );
});

test('a pause with until: runs start after it; without until: none', () => {
  const spec = { cron: '0 * * * *', pause: { reason: 'db migration', until: '2026-12-02T09:00:00Z' } };
  const r = liveNextRuns(task(spec), NOW, 2, 'UTC');
  assert.ok(r.ok);
  assert.deepEqual(iso(r.times), ['2026-12-02T10:00:00.000Z', '2026-12-02T11:00:00.000Z']);
  assert.equal(r.note, 'paused until 2026-12-02T09:00:00.000Z (db migration)');
  const forever = liveNextRuns(task({ cron: '0 * * * *', pause: { reason: 'broken' } }), NOW, 2, 'UTC');
  assert.deepEqual(forever, {
    ok: true,
    key: 'apps/report',
    times: [],
    note: 'paused until resumed (broken): no runs',
  });
  const over = task({ cron: '0 * * * *', pause: { reason: 'x', until: '2026-12-01T00:00:00Z' } });
  assert.deepEqual(times(over, 1), ['2026-12-02T07:00:00.000Z']);
});

test('disabled, completed and invalid tasks say why they have no runs', () => {
  const disabled = liveNextRuns(task({ cron: '0 * * * *', enabled: false }), NOW, 2, 'UTC');
  assert.deepEqual(disabled.ok && disabled.note, 'disabled (spec.enabled: false): no runs');
  const done = task(
    { clocked: '2026-12-01T00:00:00Z' },
    { totalRunCount: 1, lastRunAt: '2026-12-01T00:00:00Z' },
  );
  assert.deepEqual(liveNextRuns(done, NOW, 2, 'UTC'), {
    ok: true,
    key: 'apps/report',
    times: [],
    note: 'completed: no more runs',
  });
  const oneOff = task({ cron: '0 * * * *', oneOff: true });
  assert.equal(times(oneOff, 5).length, 1);
  const invalid = liveNextRuns(task({ cron: '0 * * * *', timeZone: 'Europe/Berln' }), NOW, 2, 'UTC');
  assert.equal(invalid.ok, false);
  assert.match(invalid.ok ? '' : invalid.message, /^invalid spec, no runs: spec.timeZone: .*Europe\/Berln/);
});

test('a solar task: the next events after now, and after a polar night the first day with one', () => {
  const berlin = times(task({ solar: { event: 'sunset', latitude: 52.52, longitude: 13.405 } }));
  assert.deepEqual(
    berlin.map((t) => t.slice(0, 10)),
    ['2026-12-02', '2026-12-03', '2026-12-04'],
  );
  for (const t of berlin)
    assert.match(t, /T14:5\d:\d\d\.000Z$/, 'sunset in Berlin in December, to the second');
  const svalbard = times(
    task(
      { solar: { event: 'sunrise', latitude: 78.22, longitude: 15.65 } },
      { lastRunAt: '2026-10-25T10:00:00Z' },
    ),
    1,
  );
  assert.match(svalbard[0]!, /^2027-02-1/, 'no sunrise in the polar night: the first is in February');
});

test('maxRuns counts down from the status; endTime stops the runs; both say completed once reached', () => {
  const every = { interval: { every: 30, period: 'seconds' as const } };
  const lastRunAt = '2026-12-02T06:00:05.000Z';
  const limited = task({ ...every, maxRuns: 5 }, { lastRunAt, totalRunCount: 3 });
  assert.deepEqual(times(limited, 5), ['2026-12-02T06:00:35.000Z', '2026-12-02T06:01:05.000Z']);
  const ending = task({ ...every, endTime: '2026-12-02T06:01:05Z' }, { lastRunAt });
  assert.deepEqual(times(ending, 5), ['2026-12-02T06:00:35.000Z', '2026-12-02T06:01:05.000Z']);
  for (const done of [
    task({ ...every, maxRuns: 3 }, { lastRunAt, totalRunCount: 3 }),
    task({ ...every, endTime: '2026-12-02T06:00:30Z' }, { lastRunAt }),
  ]) {
    const r = liveNextRuns(done, NOW, 3, 'UTC');
    assert.ok(r.ok);
    assert.deepEqual(r.times, []);
    assert.equal(r.note, 'completed: no more runs');
  }
});

test('a task paused after failures has no runs until resumed; below the limit, or resumed since, it runs', () => {
  const spec = { cron: '0 * * * *', pauseAfterFailures: 3 };
  const status = { consecutiveFailures: 3, lastRunAt: '2026-12-02T06:00:00Z' };
  const paused = liveNextRuns(task(spec, status), NOW, 2, 'UTC');
  assert.deepEqual(paused, {
    ok: true,
    key: 'apps/report',
    times: [],
    note: 'paused after 3 failed runs in a row (spec.pauseAfterFailures): no runs until resumed',
  });
  assert.deepEqual(times(task(spec, { ...status, consecutiveFailures: 2 }), 1), ['2026-12-02T07:00:00.000Z']);
  const resumed = task(spec, status);
  resumed.metadata.annotations = { 'celerybeat.io/resumed-at': '2026-12-02T06:00:05Z' };
  assert.deepEqual(times(resumed, 1), ['2026-12-02T07:00:00.000Z']);
});
