// The PeriodicTask informer against the real API server, as the operator's non-admin ServiceAccount.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { taskKey } from '../../../src/api/types.ts';
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

before(async () => {
  cluster = await sharedCluster();
  identity = await operatorIdentity(cluster, 'informer');
});

after(async () => {
  await identity?.cleanup();
});

function names(informer: PeriodicTaskInformer, namespace: string): string[] {
  return informer
    .list()
    .filter((task) => task.metadata.namespace === namespace)
    .map((task) => task.metadata.name)
    .sort();
}

test('sees adds, updates and deletes, and signals each change with its key; the first list signals all', async () => {
  const { namespace, api } = identity;
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'before-start') });
  const informer = new PeriodicTaskInformer(api, { logger: testLogger(), namespace });
  // Each signal: the keys it names, or "all" when any task may have changed.
  const signals: string[] = [];
  const signalled = (keys: string) => signals.includes(keys);
  try {
    assert.equal(informer.synced(), false);
    await informer.start((keys) => {
      signals.push(keys ? [...keys].sort().join() : 'all');
    });
    await informer.whenSynced();
    assert.equal(informer.synced(), true);
    assert.deepEqual(names(informer, namespace), ['before-start']);
    await eventually(() => signalled('all'), 5000, 'the initial change signal');

    await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'added') });
    await eventually(() => names(informer, namespace).includes('added'), 10_000, 'the added task');
    const added = taskKey(namespace, 'added');
    // The signal is coalesced over a short window, so it may come just after the cache changed.
    await eventually(() => signalled(added), 2000, 'the add signalled with its key');

    const seen = signals.length;
    await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'added', 45) });
    await eventually(() => informer.get(added)?.spec.interval?.every === 45, 10_000, 'the updated interval');
    await eventually(() => signals.length > seen, 2000, 'an update to signal a change');
    assert.deepEqual(signals.slice(seen), [added], 'the update names its key');

    await cluster.kubectl(['delete', 'periodictask', 'before-start', '-n', namespace]);
    await eventually(() => !names(informer, namespace).includes('before-start'), 10_000, 'the deletion');
    await eventually(() => signalled(taskKey(namespace, 'before-start')), 2000, 'the delete signalled');
    assert.deepEqual(names(informer, namespace), ['added']);
    assert.equal(signals.filter((k) => k === 'all').length, 1, 'only the first list signals all');
  } finally {
    await informer.stop();
  }
});

test('a change of the status alone is cached but signals nothing; an annotation signals', async () => {
  const { namespace, api } = identity;
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'status-only') });
  // Signals fire 1 ms after a change, long before the next kubectl call, so each change would count alone.
  const informer = new PeriodicTaskInformer(api, { logger: testLogger(), namespace, coalesceMs: 1 });
  let changes = 0;
  try {
    await informer.start(() => {
      changes += 1;
    });
    await informer.whenSynced();
    await eventually(() => changes >= 1, 5000, 'the initial change signal');
    const seen = changes;
    for (const count of [1, 2, 3]) {
      await cluster.kubectl([
        'patch',
        'periodictask',
        'status-only',
        '-n',
        namespace,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { totalRunCount: count } }),
      ]);
    }
    await eventually(
      () => informer.get(taskKey(namespace, 'status-only'))?.status?.totalRunCount === 3,
      10_000,
      'the status in the cache',
    );
    await cluster.kubectl(['annotate', 'periodictask', 'status-only', '-n', namespace, 'marker=1']);
    await eventually(
      () => informer.get(taskKey(namespace, 'status-only'))?.metadata.annotations?.marker === '1',
      10_000,
      'the annotation in the cache',
    );
    await eventually(() => changes > seen, 2000, 'the annotation to signal a change');
    assert.equal(changes, seen + 1, 'one signal: the annotation, none for the three status writes');
  } finally {
    await informer.stop();
  }
});

test('coalesces a burst of changes into few signals', async () => {
  const { namespace, api } = identity;
  const informer = new PeriodicTaskInformer(api, { logger: testLogger(), namespace });
  let changes = 0;
  try {
    await informer.start(() => {
      changes += 1;
    });
    await informer.whenSynced();
    await eventually(() => changes >= 1, 5000, 'the initial change signal');
    const before = changes;
    const burst = Array.from({ length: 40 }, (_, i) => periodicTaskYaml(namespace, `burst-${i}`)).join(
      '---\n',
    );
    await cluster.kubectl(['apply', '-f', '-'], { input: burst });
    await eventually(
      () => names(informer, namespace).filter((n) => n.startsWith('burst-')).length === 40,
      15_000,
      '40 tasks',
    );
    const signals = changes - before;
    assert.ok(signals >= 1 && signals < 40, `40 creations gave ${signals} change signals`);
  } finally {
    await informer.stop();
  }
});

test('the namespace-scoped informer sees only its namespace', async () => {
  const informer = new PeriodicTaskInformer(identity.api, {
    logger: testLogger(),
    namespace: identity.namespace,
  });
  try {
    await informer.start(() => {});
    await informer.whenSynced();
    assert.ok(informer.list().length > 0);
    assert.ok(informer.list().every((task) => task.metadata.namespace === identity.namespace));
  } finally {
    await informer.stop();
  }
});

test('a watch the server ends (timeoutSeconds) is resumed without a relist or a restart', async () => {
  const { namespace, api } = identity;
  const informer = new PeriodicTaskInformer(api, { logger: testLogger(), namespace, watchTimeoutSeconds: 1 });
  const restarts = async () =>
    (await registry.getSingleMetricAsString('celerybeat_watch_restarts_total')).trim();
  try {
    await informer.start(() => {});
    await informer.whenSynced();
    const before = await restarts();
    // Each watch lasts 1-2 s: after 5 s several have ended and been resumed.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'after-timeouts') });
    await eventually(
      () => informer.get(taskKey(namespace, 'after-timeouts')),
      10_000,
      'an event after watch timeouts',
    );
    assert.equal(await restarts(), before, 'normal watch ends are not restarts');
    assert.ok(informer.synced());
  } finally {
    await informer.stop();
  }
});

test('a quiet watch stays open past the 30 s a client-side inactivity timeout would cut it at', async () => {
  const { namespace, api } = identity;
  const informer = new PeriodicTaskInformer(api, { logger: testLogger(), namespace });
  const restarts = async () =>
    (await registry.getSingleMetricAsString('celerybeat_watch_restarts_total')).trim();
  try {
    await informer.start(() => {});
    await informer.whenSynced();
    const before = await restarts();
    // An observation window, not a wait for an event: nothing happens in the namespace for 40 s.
    await new Promise((resolve) => setTimeout(resolve, 40_000));
    assert.equal(await restarts(), before, 'the quiet watch was not cut and restarted');
    await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'after-quiet') });
    await eventually(
      () => informer.get(taskKey(namespace, 'after-quiet')),
      10_000,
      'an event on the same watch',
    );
  } finally {
    await informer.stop();
  }
});
