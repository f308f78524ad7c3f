// The status writer's staleness bound under a simulated clock, against a fake of its one API call: with T tasks
// whose runs change their status, each status is at most max(minInterval, T / qps) behind, progress is written
// at once while the rate limit has room and spaced to once per interval only when it is short, and a state
// change (Ready) goes ahead of the progress queue.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { PeriodicTaskStatus } from '../../../src/api/types.ts';
import type { ObservedObject, StatusUpdate } from '../../../src/contracts.ts';
import type { StatusPatch } from '../../../src/kube/status-patch.ts';
import { StatusWriter } from '../../../src/kube/status-writer.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

let clock: SimulatedClock | undefined;
afterEach(() => clock?.reset());

/** An API server of status objects: each patch is merged into its object, which the "cache" then shows. */
function fakeApi() {
  const objects = new Map<string, ObservedObject>();
  const writes: Array<{ name: string; at: number; status: StatusPatch }> = [];
  return {
    objects,
    writes,
    patch: async (namespace: string, name: string, status: StatusPatch): Promise<unknown> => {
      const key = `${namespace}/${name}`;
      const before = objects.get(key)?.status ?? {};
      const merged = { ...before, ...status } as PeriodicTaskStatus;
      const object = { metadata: { uid: `uid-${name}` }, status: merged };
      objects.set(key, object);
      writes.push({ name, at: Date.now(), status });
      return object;
    },
    current: (namespace: string, name: string) => objects.get(`${namespace}/${name}`),
  };
}

function writer(api: ReturnType<typeof fakeApi>, qps: number, minIntervalMs: number): StatusWriter {
  return new StatusWriter(api.patch, {
    logger: createLogger('fatal'),
    currentStatus: api.current,
    qps,
    burst: 1,
    minIntervalMs,
  });
}

const progress = (runs: number): StatusUpdate => ({
  totalRunCount: runs,
  lastRunAt: new Date(Date.now()).toISOString(),
  ready: { status: 'True', reason: 'Scheduled', message: '' },
});

/** Reports a run of every task each `everyMs` for `forMs`, recording the worst lag the writer showed. */
async function runTasks(
  status: StatusWriter,
  tasks: number,
  everyMs: number,
  forMs: number,
): Promise<{ worstLagSeconds: number }> {
  let worstLagSeconds = 0;
  for (let at = 0, run = 1; at < forMs; at += everyMs, run += 1) {
    for (let i = 0; i < tasks; i += 1) status.report('default', `task-${i}`, progress(run));
    for (let step = 0; step < everyMs; step += 100) {
      await clock!.advance(100, 100);
      worstLagSeconds = Math.max(worstLagSeconds, status.lagSeconds());
    }
  }
  return { worstLagSeconds };
}

/** The longest gap between two writes of one task after the warm-up, in seconds. */
function longestGap(writes: Array<{ name: string; at: number }>, from: number): number {
  const last = new Map<string, number>();
  let longest = 0;
  for (const { name, at } of writes) {
    const previous = last.get(name);
    if (previous !== undefined && previous >= from) longest = Math.max(longest, (at - previous) / 1000);
    last.set(name, at);
  }
  return longest;
}

test('saturated (T / qps above the interval): every status is at most T / qps behind, at qps writes a second', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 5, 10_000);
  const start = Date.now();
  // 100 tasks running every second at 5 writes/s: each task can be written every 20 s at best.
  const { worstLagSeconds } = await runTasks(status, 100, 1000, 120_000);
  const seconds = (Date.now() - start) / 1000;
  assert.ok(api.writes.length <= 5 * seconds + 1, `${api.writes.length} writes in ${seconds} s at qps 5`);
  assert.ok(api.writes.length >= 5 * seconds - 10, `the rate limit is used: ${api.writes.length} writes`);
  assert.ok(worstLagSeconds <= 20 + 1.5, `lag stays within T / qps = 20 s (worst ${worstLagSeconds} s)`);
  assert.ok(longestGap(api.writes, start + 30_000) <= 20 + 1.5, 'each task is written every ~20 s');
  assert.equal(api.objects.get('default/task-7')?.status?.totalRunCount !== undefined, true);
});

test('unsaturated (the rate limit has room): each run is written as soon as it is reported, not after the interval', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 50, 10_000);
  // 10 tasks running every second at 50 writes/s: the budget is not short, so nothing is spaced.
  const { worstLagSeconds } = await runTasks(status, 10, 1000, 60_000);
  const perTask = api.writes.filter((w) => w.name === 'task-3');
  assert.ok(perTask.length >= 59, `${perTask.length} writes of one task in 60 s: one per run`);
  // Burst 1 on a clock stepped by 100 ms gives one write a step: ten runs reported at once take a second.
  assert.ok(worstLagSeconds < 1, `each run shows within a second (worst lag ${worstLagSeconds} s)`);
  assert.equal(perTask.at(-1)!.status.totalRunCount, 60, 'the latest run count written');
});

test('one task running every second on an idle API server shows its first runs within a second', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 20, 10_000);
  for (let run = 1; run <= 3; run += 1) {
    status.report('default', 'every-second', progress(run));
    await clock.advance(1000, 100);
    assert.equal(api.objects.get('default/every-second')?.status?.totalRunCount, run, `run ${run} shown`);
  }
});

test('short of budget: progress is spaced to the interval and the rate is used, each status within the interval', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 5, 10_000);
  const start = Date.now();
  // 20 tasks running every second at 5 writes/s: 4 s per task at best.
  const { worstLagSeconds } = await runTasks(status, 20, 1000, 60_000);
  const seconds = (Date.now() - start) / 1000;
  assert.ok(api.writes.length <= 5 * seconds + 1, `${api.writes.length} writes in ${seconds} s at qps 5`);
  assert.ok(worstLagSeconds <= 10 + 0.5, `lag stays within the interval (worst ${worstLagSeconds} s)`);
  assert.ok(longestGap(api.writes, start) <= 10 + 0.5);
});

test('a state change goes ahead of a long progress queue', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 2, 10_000);
  // Tasks whose Ready condition is already written: their runs are progress only.
  const scheduled = { type: 'Ready', status: 'True', reason: 'Scheduled', message: '' } as const;
  for (let i = 0; i < 200; i += 1) {
    const status = { conditions: [{ ...scheduled, lastTransitionTime: '2030-01-01T00:00:00Z' }] };
    api.objects.set(`default/task-${i}`, { metadata: { uid: `uid-task-${i}` }, status });
  }
  for (let i = 0; i < 200; i += 1) status.report('default', `task-${i}`, progress(1));
  await clock.advance(2000, 100);
  const before = api.writes.length;
  status.report('default', 'task-150', {
    ready: { status: 'False', reason: 'InvalidSpec', message: 'spec.timeZone: unknown zone' },
  });
  await clock.advanceUntil(
    'the Ready change written',
    () => api.objects.get('default/task-150')?.status?.conditions?.[0]?.reason === 'InvalidSpec',
    5000,
    100,
  );
  assert.ok(api.writes.length - before <= 2, 'written within the next token or two, not after 150 others');
});

test('a progress report that changes nothing is not written, and does not hold the next change', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 50, 10_000);
  status.report('default', 'task-0', progress(1));
  await clock.advance(500, 100);
  assert.equal(api.writes.length, 1);
  status.report('default', 'task-0', { totalRunCount: 1 });
  await clock.advance(11_000, 100);
  assert.equal(api.writes.length, 1, 'the same run count is not sent again');
  status.report('default', 'task-0', { totalRunCount: 2 });
  await clock.advance(500, 100);
  assert.equal(api.writes.length, 2, 'the interval had passed: written at once');
});

test('reports that change nothing use no share of the rate limit (a new leader re-reporting every task)', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  // One write a second: were the 1,000 unchanged reports to take a token each, the run after them would
  // wait 1,000 s.
  const status = writer(api, 1, 10_000);
  const ready = { status: 'True', reason: 'Scheduled', message: '' } as const;
  for (let i = 0; i < 1000; i += 1) {
    const conditions = [
      { type: 'Ready', ...ready, lastTransitionTime: '2030-01-01T00:00:00Z', observedGeneration: 1 },
    ];
    api.objects.set(`default/task-${i}`, {
      metadata: { uid: `uid-task-${i}` },
      status: { observedGeneration: 1, conditions },
    });
  }
  await clock.advance(2000, 100);
  for (let i = 0; i < 1000; i += 1) status.report('default', `task-${i}`, { observedGeneration: 1, ready });
  status.report('default', 'task-999', { totalRunCount: 1 });
  await clock.advanceUntil(
    'the run written',
    () => api.objects.get('default/task-999')?.status?.totalRunCount === 1,
    3000,
    100,
  );
  assert.equal(api.writes.length, 1, 'only the run is sent');
  assert.equal(status.lagSeconds(), 0);
});

test('a slow API server still gets the qps: patches under way at once follow the rate, not a fixed few', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  // Every answer takes 100 ms (a busy API server). Four patches at once would make 40 writes a second.
  const slow = async (namespace: string, name: string, patch: StatusPatch): Promise<unknown> => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return api.patch(namespace, name, patch);
  };
  const status = new StatusWriter(slow, {
    logger: createLogger('fatal'),
    currentStatus: api.current,
    qps: 200,
    burst: 20,
    minIntervalMs: 10_000,
  });
  for (let i = 0; i < 2000; i += 1) status.report('default', `task-${i}`, progress(1));
  await clock.advance(1000, 10);
  const before = api.writes.length;
  await clock.advance(3000, 10);
  const perSecond = (api.writes.length - before) / 3;
  assert.ok(perSecond >= 180 && perSecond <= 201, `${perSecond} writes a second at qps 200`);
});

test('namespaces take turns: one with hundreds of changes queued does not hold back another namespace', async () => {
  clock = simulatedClock();
  const api = fakeApi();
  const status = writer(api, 2, 10_000);
  const invalid = { status: 'False', reason: 'InvalidSpec', message: 'spec.timeZone: unknown zone' } as const;
  for (let i = 0; i < 300; i += 1) status.report('flood', `bad-${i}`, { ready: invalid });
  for (let i = 0; i < 300; i += 1) status.report('flood', `busy-${i}`, progress(1));
  await clock.advance(2000, 100);
  const before = api.writes.length;
  status.report('quiet', 'one', { ready: { status: 'True', reason: 'Scheduled', message: '' } });
  await clock.advanceUntil(
    "the quiet namespace's Ready written",
    () => api.objects.has('quiet/one'),
    5000,
    100,
  );
  // Only the writes already under way or holding the next token (at most 4 at this qps) go before it.
  assert.ok(
    api.writes.length - before <= 4,
    `its state change right after the writes under way, not after 300 others: ${api.writes
      .slice(before)
      .map((w) => w.name)
      .join(' ')}`,
  );
  const beforeRun = api.writes.length;
  status.report('quiet', 'two', progress(1));
  await clock.advanceUntil(
    "the quiet namespace's run written",
    () => api.objects.has('quiet/two'),
    5000,
    100,
  );
  // Its first report (Ready with the run) is a state change, as each of the flood's 600 is: it takes its turn.
  const flooded = api.writes.slice(beforeRun).filter((w) => w.name.startsWith('busy-')).length;
  assert.ok(flooded <= 4, `${flooded} of the flood's runs went first`);
});
