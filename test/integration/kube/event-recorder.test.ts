// Events about PeriodicTasks, created by the operator's ServiceAccount on the real API server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PeriodicTask } from '../../../src/api/types.ts';
import { EventRecorder, REPORTING_CONTROLLER } from '../../../src/kube/event-recorder.ts';
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

before(async () => {
  cluster = await sharedCluster();
  identity = await operatorIdentity(cluster, 'events');
});

after(async () => {
  await identity?.cleanup();
});

interface EventList {
  items: {
    type: string;
    reason: string;
    note: string;
    action: string;
    reportingController: string;
    reportingInstance: string;
    eventTime: string;
    regarding: { kind: string; name: string; uid: string };
  }[];
}

async function eventsAbout(name: string): Promise<EventList['items']> {
  const list: EventList = JSON.parse(
    await cluster.kubectl(['get', 'events.v1.events.k8s.io', '-n', identity.namespace, '-o', 'json']),
  );
  return list.items.filter((event) => event.regarding.name === name);
}

test('a Warning Event about a PeriodicTask, sent once per window for the same reason and message', async () => {
  const { namespace, api } = identity;
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'bad-zone') });
  const task: PeriodicTask = JSON.parse(
    await cluster.kubectl(['get', 'periodictask', 'bad-zone', '-n', namespace, '-o', 'json']),
  );
  const recorder = new EventRecorder(api, { logger: testLogger(), reportingInstance: 'operator-0' });
  const subject = { namespace, name: 'bad-zone', uid: task.metadata.uid };
  const message = 'spec.timeZone: unknown time zone "Mars/Olympus_Mons"';
  for (let i = 0; i < 5; i++) recorder.warning(subject, 'InvalidSpec', message);
  recorder.normal(subject, 'Scheduled', 'next run at 2026-11-25T09:00:30Z');
  await recorder.flush();

  const events = await eventually(
    async () => {
      const found = await eventsAbout('bad-zone');
      return found.length >= 2 ? found : undefined;
    },
    10_000,
    'two events',
  );
  const warnings = events.filter((event) => event.type === 'Warning');
  assert.equal(warnings.length, 1, 'the repeated warning was sent once');
  const [warning] = warnings;
  assert.equal(warning?.reason, 'InvalidSpec');
  assert.equal(warning?.note, message);
  assert.equal(warning?.action, 'Reconcile');
  assert.equal(warning?.reportingController, REPORTING_CONTROLLER);
  assert.equal(warning?.reportingInstance, 'operator-0');
  assert.equal(warning?.regarding.kind, 'PeriodicTask');
  assert.equal(warning?.regarding.uid, task.metadata.uid);
  assert.match(warning?.eventTime ?? '', /\.\d{6}Z$/);
  assert.equal(events.filter((event) => event.type === 'Normal').length, 1);

  const described = await cluster.kubectl(['describe', 'periodictask', 'bad-zone', '-n', namespace]);
  assert.match(described, /Warning\s+InvalidSpec/);
});

test('the same event is sent again after the window, and the rate limit drops a flood', async () => {
  const { namespace, api } = identity;
  const recorder = new EventRecorder(api, {
    logger: testLogger(),
    reportingInstance: 'operator-0',
    dedupeWindowMs: 300,
    qps: 0.001,
    burst: 5,
  });
  const subject = { namespace, name: 'flood' };
  recorder.warning(subject, 'StoreUnavailable', 'redis down');
  await new Promise((resolve) => setTimeout(resolve, 400));
  recorder.warning(subject, 'StoreUnavailable', 'redis down');
  for (let i = 0; i < 20; i++) recorder.warning(subject, 'StoreUnavailable', `redis down ${i}`);
  await recorder.flush();
  const events = await eventually(
    async () => {
      const found = await eventsAbout('flood');
      return found.length >= 5 ? found : undefined;
    },
    10_000,
    'five events',
  );
  assert.equal(events.length, 5, 'burst of 5, nothing more');
  assert.equal(events.filter((event) => event.note === 'redis down').length, 2, 'resent after the window');
});
