// The informer through what real clusters do to a watch: an API server restart (connection refused, then a
// new watch cache that no longer knows our resourceVersion) and an API server that stops answering.
// Runs on a control plane of its own, since it restarts and freezes the API server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { taskKey } from '../../../src/api/types.ts';
import { StatusWriter, statusPatcher } from '../../../src/kube/status-writer.ts';
import { PeriodicTaskInformer } from '../../../src/kube/task-informer.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { type ControlPlane, startControlPlane } from '../../testbed/cluster.ts';
import {
  eventually,
  type OperatorIdentity,
  operatorIdentity,
  periodicTaskYaml,
  testLogger,
} from './operator-identity.ts';

let controlPlane: ControlPlane;
let identity: OperatorIdentity;

before(async () => {
  controlPlane = await startControlPlane();
  identity = await operatorIdentity(controlPlane, 'disruption');
});

after(async () => {
  await controlPlane?.stop();
});

async function restarts(reason: string): Promise<number> {
  const metric = await registry.getSingleMetric('celerybeat_watch_restarts_total')?.get();
  return metric?.values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

async function apiServerPid(): Promise<number> {
  const state = JSON.parse(await readFile(join(controlPlane.dir, 'state.json'), 'utf8')) as {
    pids: { apiserver: number };
  };
  return state.pids.apiserver;
}

test('an API server restart: not synced while it is down, then resumes and sees new objects', async () => {
  const { namespace, api } = identity;
  await controlPlane.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'before-restart') });
  // No grace: a restart can be quicker than any grace period, and the test must see the broken state.
  const informer = new PeriodicTaskInformer(api, {
    logger: testLogger(),
    unsyncedGraceMs: 0,
    backoff: { initialMs: 200, maxMs: 1000 },
  });
  try {
    await informer.start(() => {});
    await informer.whenSynced();
    const errorsBefore = await restarts('error');
    const expiredBefore = await restarts('expired');
    let sawUnsynced = false;
    const probe = setInterval(() => {
      if (!informer.synced()) sawUnsynced = true;
    }, 100);
    try {
      await controlPlane.restartApiServer();
    } finally {
      clearInterval(probe);
    }
    assert.ok(sawUnsynced, 'synced() turned false while the API server was down');
    await controlPlane.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'after-restart') });
    await eventually(
      () => informer.get(taskKey(namespace, 'after-restart')),
      20_000,
      'an object created after the restart',
    );
    await eventually(() => informer.synced(), 10_000, 'synced() after the restart');
    assert.ok(
      informer.get(taskKey(namespace, 'before-restart')),
      'objects from before the restart are still known',
    );
    const errors = (await restarts('error')) - errorsBefore;
    const expired = (await restarts('expired')) - expiredBefore;
    assert.ok(errors >= 1, `restart counted as watch errors (${errors})`);
    // The new API server's watch cache starts after our last resourceVersion, so the resumed watch gets
    // 410 Gone and the informer relists.
    assert.ok(expired >= 1, `410 Gone relist after the restart (${expired})`);

    await controlPlane.kubectl(['delete', 'periodictask', 'before-restart', '-n', namespace]);
    await eventually(
      () => !informer.get(taskKey(namespace, 'before-restart')),
      10_000,
      'a deletion after the restart',
    );
  } finally {
    await informer.stop();
  }
});

test('a frozen API server: the watchdog restarts the stalled watch and the informer recovers', async () => {
  const { namespace, api } = identity;
  const informer = new PeriodicTaskInformer(api, {
    logger: testLogger(),
    namespace,
    stallTimeoutMs: 3000,
    unsyncedGraceMs: 1000,
    backoff: { initialMs: 200, maxMs: 1000 },
  });
  let churn = 0;
  const touch = () =>
    controlPlane.kubectl(['apply', '-f', '-'], {
      input: periodicTaskYaml(namespace, 'heartbeat', 10 + (churn++ % 50)),
    });
  try {
    await informer.start(() => {});
    await informer.whenSynced();
    // With an event every 500 ms the watchdog has no reason to fire.
    const quietBefore = await restarts('stalled');
    for (let i = 0; i < 8; i++) {
      await touch();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(await restarts('stalled'), quietBefore, 'no stall restarts while events flow');

    const pid = await apiServerPid();
    process.kill(pid, 'SIGSTOP');
    try {
      await eventually(async () => (await restarts('stalled')) > quietBefore, 10_000, 'a stall restart');
      await eventually(() => !informer.synced(), 10_000, 'synced() false while frozen');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await controlPlane.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'after-freeze') });
    await eventually(
      () => informer.get(taskKey(namespace, 'after-freeze')),
      30_000,
      'an object created after the freeze',
    );
    await eventually(() => informer.synced(), 10_000, 'synced() after the freeze');
  } finally {
    await informer.stop();
  }
});

test('status updates reported while the API server is frozen are written once it answers again', async () => {
  const { namespace, api } = identity;
  await controlPlane.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'status-frozen') });
  const sink = new StatusWriter(statusPatcher(api), {
    logger: testLogger(),
    currentStatus: () => undefined,
    qps: 20,
    burst: 40,
    requestTimeoutMs: 1000,
    retryBackoff: { initialMs: 200, maxMs: 500 },
  });
  const metric = async () =>
    (await registry.getSingleMetric('celerybeat_status_writes_total')?.get())?.values.find(
      (value) => value.labels.result === 'retry',
    )?.value ?? 0;
  const retriesBefore = await metric();
  const pid = await apiServerPid();
  process.kill(pid, 'SIGSTOP');
  try {
    sink.report(namespace, 'status-frozen', { totalRunCount: 1 });
    sink.report(namespace, 'status-frozen', { totalRunCount: 2, lastTaskId: 'frozen-2' });
    await eventually(async () => (await metric()) > retriesBefore, 10_000, 'a retried status write');
    assert.equal(sink.pendingCount(), 1, 'the update is kept for a retry');
    assert.ok(sink.lagSeconds() > 0);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  await eventually(() => sink.pendingCount() === 0, 20_000, 'the retried write');
  const task = JSON.parse(
    await controlPlane.kubectl(['get', 'periodictask', 'status-frozen', '-n', namespace, '-o', 'json']),
  );
  assert.equal(task.status?.totalRunCount, 2);
  assert.equal(task.status?.lastTaskId, 'frozen-2');
});
