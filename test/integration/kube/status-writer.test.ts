// Status write-back against the real API server, as the operator's ServiceAccount (which may patch
// periodictasks/status and nothing else on PeriodicTasks).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type PeriodicTask, taskKey } from '../../../src/api/types.ts';
import { StatusWriter, statusPatcher } from '../../../src/kube/status-writer.ts';
import { PeriodicTaskInformer } from '../../../src/kube/task-informer.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import {
  eventually,
  type OperatorIdentity,
  operatorIdentity,
  periodicTaskYaml,
  testLogger,
} from './operator-identity.ts';

let cluster: ClusterHandle;
let identity: OperatorIdentity;
let informer: PeriodicTaskInformer;

before(async () => {
  cluster = await sharedCluster();
  identity = await operatorIdentity(cluster, 'status');
  informer = new PeriodicTaskInformer(identity.api, { logger: testLogger(), namespace: identity.namespace });
  await informer.start(() => {});
  await informer.whenSynced();
});

after(async () => {
  await informer?.stop();
  await identity?.cleanup();
});

function writer(qps = 50, burst = 50): StatusWriter {
  return new StatusWriter(statusPatcher(identity.api), {
    logger: testLogger(),
    currentStatus: (namespace, name) => informer.get(taskKey(namespace, name)),
    qps,
    burst,
    retryBackoff: { initialMs: 200, maxMs: 1000 },
  });
}

async function getTask(name: string): Promise<PeriodicTask> {
  return JSON.parse(
    await cluster.kubectl(['get', 'periodictask', name, '-n', identity.namespace, '-o', 'json']),
  );
}

async function writes(result: string): Promise<number> {
  const metric = await registry.getSingleMetric('celerybeat_status_writes_total')?.get();
  return metric?.values.find((value) => value.labels.result === result)?.value ?? 0;
}

async function createTasks(names: string[]): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], {
    input: names.map((name) => periodicTaskYaml(identity.namespace, name)).join('---\n'),
  });
  await eventually(
    () => names.every((name) => informer.get(taskKey(identity.namespace, name))),
    10_000,
    'tasks in the cache',
  );
}

test('writes status by merge patch on the subresource and never touches spec', async () => {
  const { namespace } = identity;
  await createTasks(['written']);
  const before = await getTask('written');
  const sink = writer();
  sink.report(namespace, 'written', {
    lastRunAt: '2026-11-25T09:00:00Z',
    totalRunCount: 3,
    lastTaskId: '5d0c7b0e-0000-5000-8000-000000000001',
    nextRunAt: '2026-11-25T09:00:30Z',
    missedRunCount: 1,
    observedGeneration: before.metadata.generation,
    ready: { status: 'True', reason: 'Scheduled', message: '' },
  });
  await sink.flush();
  const after = await getTask('written');
  assert.equal(after.status?.totalRunCount, 3);
  assert.equal(after.status?.lastRunAt, '2026-11-25T09:00:00Z');
  assert.equal(after.status?.nextRunAt, '2026-11-25T09:00:30Z');
  assert.equal(after.status?.missedRunCount, 1);
  assert.equal(after.status?.observedGeneration, before.metadata.generation);
  const ready = after.status?.conditions?.find((condition) => condition.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.reason, 'Scheduled');
  assert.equal(after.metadata.generation, before.metadata.generation, 'generation unchanged: spec untouched');
  assert.deepEqual(after.spec, before.spec);
  const table = await cluster.kubectl(['get', 'pt', 'written', '-n', namespace]);
  assert.match(table, /written/);
  assert.equal(sink.lagSeconds(), 0);
});

test('"no next run" removes nextRunAt from the resource, and the next report writes nothing more', async () => {
  const { namespace } = identity;
  await createTasks(['no-next']);
  const sink = writer();
  sink.report(namespace, 'no-next', { totalRunCount: 1, nextRunAt: '2026-11-25T09:00:30Z' });
  await sink.flush();
  assert.equal((await getTask('no-next')).status?.nextRunAt, '2026-11-25T09:00:30Z');
  sink.report(namespace, 'no-next', {
    totalRunCount: 1,
    nextRunAt: null,
    ready: { status: 'False', reason: 'Completed', message: 'ran once; it will not run again' },
  });
  await sink.flush();
  const after = await getTask('no-next');
  assert.equal(after.status?.nextRunAt, undefined);
  assert.equal(after.status?.totalRunCount, 1);
  const unchanged = await writes('unchanged');
  sink.report(namespace, 'no-next', { totalRunCount: 1, nextRunAt: null });
  await sink.flush();
  assert.equal(await writes('unchanged'), unchanged + 1, 'an absent field needs no null');
});

test('keeps lastTransitionTime while Ready stays, moves it when Ready flips', async () => {
  const { namespace } = identity;
  await createTasks(['transitions']);
  const sink = writer();
  sink.report(namespace, 'transitions', {
    ready: { status: 'False', reason: 'InvalidSpec', message: 'bad zone' },
  });
  await sink.flush();
  const first = (await getTask('transitions')).status?.conditions?.find((c) => c.type === 'Ready');
  // Transition times have second precision: a flip in the same second would look like no transition.
  await eventually(
    () => Date.now() >= Date.parse(first?.lastTransitionTime ?? '') + 1000,
    5000,
    'the next second after the first transition',
  );
  sink.report(namespace, 'transitions', {
    ready: { status: 'False', reason: 'Disabled', message: 'enabled is false' },
  });
  await sink.flush();
  const same = (await getTask('transitions')).status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(same?.reason, 'Disabled');
  assert.equal(same?.lastTransitionTime, first?.lastTransitionTime);
  sink.report(namespace, 'transitions', { ready: { status: 'True', reason: 'Scheduled', message: '' } });
  await sink.flush();
  const flipped = (await getTask('transitions')).status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal(flipped?.status, 'True');
  assert.notEqual(flipped?.lastTransitionTime, first?.lastTransitionTime);
});

test('coalesces many reports for one resource into few patches', async () => {
  const { namespace } = identity;
  await createTasks(['busy']);
  const sink = writer();
  const written = await writes('written');
  for (let run = 1; run <= 100; run++) {
    sink.report(namespace, 'busy', {
      totalRunCount: run,
      lastRunAt: new Date(Date.UTC(2026, 10, 25, 9, 0, run % 60)).toISOString(),
    });
  }
  await sink.flush();
  assert.equal((await getTask('busy')).status?.totalRunCount, 100);
  const patches = (await writes('written')) - written;
  assert.ok(patches >= 1 && patches <= 3, `100 reports gave ${patches} patches`);
});

test('respects the rate limit and reports the lag meanwhile', async () => {
  const { namespace } = identity;
  const names = Array.from({ length: 8 }, (_, i) => `paced-${i}`);
  await createTasks(names);
  const sink = writer(4, 1);
  const started = Date.now();
  for (const name of names) sink.report(namespace, name, { totalRunCount: 7 });
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.ok(sink.lagSeconds() >= 0.5, `lag while paced: ${sink.lagSeconds()} s`);
  const lagMetric = await registry.getSingleMetricAsString('celerybeat_status_lag_seconds');
  assert.doesNotMatch(lagMetric, /celerybeat_status_lag_seconds 0$/m);
  await sink.flush();
  const elapsed = Date.now() - started;
  // 1 at once, then 4 per second: the 8th write cannot start before 7/4 s.
  assert.ok(elapsed >= 1700, `8 writes at qps 4, burst 1 took ${elapsed} ms`);
  for (const name of names) assert.equal((await getTask(name)).status?.totalRunCount, 7);
});

test('a deleted resource is dropped, not retried', async () => {
  const sink = writer();
  const gone = await writes('gone');
  sink.report(identity.namespace, 'never-existed', { totalRunCount: 1 });
  await sink.flush();
  assert.equal((await writes('gone')) - gone, 1);
  assert.equal(sink.pendingCount(), 0);
});

test('the operator identity cannot write spec', async () => {
  await createTasks(['guarded']);
  await assert.rejects(
    cluster.kubectl([
      '--kubeconfig',
      identity.kubeconfigPath,
      'patch',
      'periodictask',
      'guarded',
      '-n',
      identity.namespace,
      '--type=merge',
      '-p',
      '{"spec":{"task":"tasks.other"}}',
    ]),
    /Forbidden|forbidden/,
  );
});
