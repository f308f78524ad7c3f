// The reconciler's policy hook against fakes: a task that violates an Enforce policy is reported
// PolicyViolation and never reaches the beat; a Warn policy only warns; a policy change re-checks tasks whose
// objects did not change; no policy is today's behaviour.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTaskPolicy, PeriodicTaskPolicySpec } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import type { PolicySource, SlotDispatcher } from '../../../src/contracts.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { registry } from '../../../src/observe/metrics.ts';
import { PolicyBook } from '../../../src/policy/policy-book.ts';
import { periodicTask, recordingListener } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';

const NOW = Date.UTC(2030, 0, 1);
const logger = createLogger('silent');
const idleDispatcher: SlotDispatcher = { dispatch: async () => [] };

function policy(name: string, spec: Partial<PeriodicTaskPolicySpec>): PeriodicTaskPolicy {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns' } }, ...spec },
  };
}

function setup(initial: PeriodicTaskPolicy[]) {
  const current = { policies: initial };
  const source: PolicySource = {
    start: async () => {},
    policies: () => current.policies,
    namespaceLabels: (ns) => ({ 'kubernetes.io/metadata.name': ns }),
    synced: () => true,
    stop: async () => {},
  };
  const policies = new PolicyBook(source);
  const store = new MemoryTaskStore();
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher: idleDispatcher,
    listener: recordingListener(),
    logger,
    clock: () => NOW,
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: () => NOW,
    policies,
  });
  const lastReady = (name: string) =>
    status.reports.filter((r) => r.name === name && r.update.ready).at(-1)?.update.ready;
  const setPolicies = (next: PeriodicTaskPolicy[]) => {
    current.policies = next;
    policies.changed();
  };
  return { store, events, beat, reconciler, lastReady, setPolicies };
}

async function violations(mode: string): Promise<number> {
  const metric = await registry.getSingleMetric('celerybeat_policy_violations_total')?.get();
  return metric?.values.find((v) => v.labels.task_namespace === 'ns' && v.labels.mode === mode)?.value ?? 0;
}

test('a task over maxPriority is PolicyViolation naming rule and value; the complying one is scheduled', async () => {
  const { beat, events, reconciler, lastReady } = setup([policy('cap', { maxPriority: 3 })]);
  const before = await violations('Enforce');
  const loud = periodicTask('loud', { options: { priority: 9 } });
  const quiet = periodicTask('quiet', { options: { priority: 3 } });
  await reconciler.reconcile([loud, quiet]);
  assert.equal(beat.get('ns/loud'), undefined, 'never handed to the beat');
  assert.ok(beat.get('ns/quiet'));
  const ready = lastReady('loud');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'PolicyViolation');
  assert.equal(ready?.message, 'PeriodicTaskPolicy cap: priority 9 is above maxPriority 3');
  assert.equal(lastReady('quiet')?.status, 'True');
  assert.deepEqual(
    events.warnings.map((e) => [e.reason, e.message]),
    [['PolicyViolation', 'PeriodicTaskPolicy cap: priority 9 is above maxPriority 3']],
  );
  await reconciler.reconcile([loud, quiet], true);
  assert.equal(events.warnings.length, 1, 'told once per distinct message');
  assert.equal((await violations('Enforce')) - before, 1);
});

test('a policy change re-checks unchanged objects: lifting the limit schedules, adding one unschedules', async () => {
  const { beat, reconciler, lastReady, setPolicies } = setup([policy('cap', { maxPriority: 3 })]);
  const loud = periodicTask('loud', { options: { priority: 9 } });
  await reconciler.reconcile([loud]);
  assert.equal(beat.get('ns/loud'), undefined);
  setPolicies([]);
  await reconciler.reconcile([loud]);
  assert.ok(beat.get('ns/loud'), 'scheduled once no policy forbids it');
  assert.equal(lastReady('loud')?.status, 'True');
  setPolicies([policy('queues', { allowedQueues: ['team-a.*'] })]);
  await reconciler.reconcileKeys(['ns/loud'], () => loud, true);
  assert.equal(beat.get('ns/loud'), undefined, 'taken off the beat');
  assert.match(lastReady('loud')?.message ?? '', /queue "celery" is not in allowedQueues/);
});

test('Warn policies warn once and the task runs; without policies nothing is checked', async () => {
  const { beat, events, reconciler, lastReady } = setup([
    policy('soon', { mode: 'Warn', minIntervalSeconds: 60 }),
  ]);
  const fast = periodicTask('fast');
  await reconciler.reconcile([fast]);
  await reconciler.reconcile([fast], true);
  assert.ok(beat.get('ns/fast'));
  assert.equal(lastReady('fast')?.status, 'True');
  assert.deepEqual(
    events.warnings.map((e) => [e.reason, e.message]),
    [['PolicyWarning', 'PeriodicTaskPolicy soon: runs can be 1 s apart, below minIntervalSeconds 60']],
  );
  const open = setup([]);
  await open.reconciler.reconcile([periodicTask('loud', { options: { priority: 255 } })]);
  assert.ok(open.beat.get('ns/loud'));
  assert.equal(open.events.warnings.length, 0);
});
