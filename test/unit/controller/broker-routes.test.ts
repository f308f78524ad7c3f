// The broker of each namespace, from its policies and the Secrets they name (fakes of the policy source and the
// Secret lookup): a named Secret's URL; a Secret that is missing, lacks the key, cannot be read or holds no
// broker URL holds the namespace's tasks back (Ready False/BrokerSecretUnavailable naming the Secret and
// key, never the value), and they resume once the Secret is there, with no restart; policies naming
// different brokers are a PolicyViolation; only the Secrets a policy names are read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeriodicTaskPolicy, PeriodicTaskPolicySpec } from '../../../src/api/types.ts';
import { Beat } from '../../../src/beat/beat.ts';
import type { PolicySource, SecretLookup, SlotDispatcher } from '../../../src/contracts.ts';
import { BrokerRoutes } from '../../../src/controller/broker-routes.ts';
import { BrokerSecrets } from '../../../src/controller/broker-secrets.ts';
import { Reconciler } from '../../../src/controller/reconciler.ts';
import { withPolicies } from '../../../src/controller/with-policies.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { PolicyBook } from '../../../src/policy/policy-book.ts';
import { periodicTask, recordingListener } from '../../support/fakes/definitions.ts';
import { DrivenTaskSource } from '../../support/fakes/driven-task-source.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';
import { RecordingEvents } from '../../support/fakes/recording-events.ts';
import { RecordingStatusSink } from '../../support/fakes/recording-status-sink.ts';

const NOW = Date.UTC(2030, 0, 1);
const logger = createLogger('silent');
const idleDispatcher: SlotDispatcher = { dispatch: async () => [] };
const URL_B = 'redis://:hunter2@team-b-redis:6379/1';

function policy(name: string, spec: Partial<PeriodicTaskPolicySpec>, namespace = 'ns'): PeriodicTaskPolicy {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } }, ...spec },
  };
}

const teamB = (name = 'team-b', key = 'url') => ({ broker: { secretKeyRef: { name, key } } });

/** Secrets in memory; a name in `failing` cannot be read; `reads` counts each read by name. */
function secretStore() {
  const secrets = new Map<string, Record<string, string>>();
  const failing = new Set<string>();
  const reads: string[] = [];
  const lookup: SecretLookup = {
    read: async (name) => {
      reads.push(name);
      if (failing.has(name)) throw new Error('forbidden');
      return secrets.get(name);
    },
    describe: (name) => `Secret ops/${name}`,
  };
  return { secrets, failing, reads, lookup };
}

function setup(initial: PeriodicTaskPolicy[]) {
  const current = { policies: initial };
  let policiesChanged: () => void = () => {};
  const source: PolicySource = {
    start: async (onChange) => {
      policiesChanged = onChange;
      onChange();
    },
    policies: () => current.policies,
    namespaceLabels: (ns) => ({ 'kubernetes.io/metadata.name': ns }),
    synced: () => true,
    stop: async () => {},
  };
  const store = secretStore();
  const secrets = new BrokerSecrets(source, store.lookup, { logger, pollMs: 5 });
  const book = new PolicyBook(secrets);
  const routes = new BrokerRoutes({
    book,
    secrets,
    checkUrl: (url) => (url.startsWith('redis://') ? undefined : 'not a broker URL'),
  });
  let changes = 0;
  const tasks = new DrivenTaskSource();
  const joined = withPolicies(tasks, secrets, book, () => {
    changes += 1;
  });
  const status = new RecordingStatusSink();
  const events = new RecordingEvents();
  const beat = new Beat({
    dispatcher: idleDispatcher,
    listener: recordingListener(),
    logger,
    clock: () => NOW,
  });
  const reconciler = new Reconciler({
    store: new MemoryTaskStore(),
    beat,
    status,
    events,
    logger,
    defaultTimeZone: 'UTC',
    clock: () => NOW,
    policies: book,
    brokers: routes,
  });
  const lastReady = (name: string) =>
    status.reports.filter((r) => r.name === name && r.update.ready).at(-1)?.update.ready;
  const setPolicies = (next: PeriodicTaskPolicy[]) => {
    current.policies = next;
    policiesChanged();
  };
  return {
    ...store,
    joined,
    routes,
    reconciler,
    beat,
    events,
    lastReady,
    setPolicies,
    changes: () => changes,
    start: () => joined.start(() => {}),
  };
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.ok(condition(), what);
}

test("a policy's Secret names its namespaces' broker; other namespaces keep the operator's own", async () => {
  const s = setup([policy('b', teamB())]);
  s.secrets.set('team-b', { url: `${URL_B}\n` });
  await s.start();
  await until('synced', () => s.joined.synced());
  assert.deepEqual(s.routes.routeOf('ns'), { ok: true, url: URL_B });
  assert.deepEqual(s.routes.routeOf('other'), { ok: true });
  assert.deepEqual([...s.routes.named()], [URL_B]);
  await s.joined.stop();
});

test('a missing Secret holds the task back naming Secret and key; it runs once the Secret exists, no restart', async () => {
  const s = setup([policy('b', teamB())]);
  await s.start();
  await until('synced', () => s.joined.synced());
  const task = periodicTask('t');
  await s.reconciler.reconcile([task]);
  assert.equal(s.beat.get('ns/t'), undefined, 'nothing of it is dispatched');
  const held = s.lastReady('t');
  assert.equal(held?.status, 'False');
  assert.equal(held?.reason, 'BrokerSecretUnavailable');
  assert.equal(
    held?.message,
    'the broker of PeriodicTaskPolicy b (Secret team-b key url) cannot be used: Secret ops/team-b does not exist',
  );
  assert.deepEqual(
    s.events.warnings.map((e) => e.reason),
    ['BrokerSecretUnavailable'],
  );
  assert.deepEqual([...s.routes.named()], []);

  const before = s.changes();
  s.secrets.set('team-b', { url: URL_B });
  await until('the poll finds the Secret', () => s.changes() > before);
  await s.reconciler.reconcile([task]);
  assert.ok(s.beat.get('ns/t'), 'scheduled');
  assert.equal(s.lastReady('t')?.status, 'True');
  await s.joined.stop();
});

test('a Secret without the key, one that cannot be read, one holding no broker URL: each says so, never the value', async () => {
  const s = setup([
    policy('no-key', teamB('no-key'), 'a'),
    policy('unreadable', teamB('unreadable'), 'b'),
    policy('not-a-url', teamB('not-a-url'), 'c'),
  ]);
  s.secrets.set('no-key', { other: URL_B });
  s.failing.add('unreadable');
  s.secrets.set('not-a-url', { url: 'http://user:hunter2@x' });
  await s.start();
  await until('synced', () => s.joined.synced());
  const message = (ns: string) => {
    const route = s.routes.routeOf(ns);
    assert.ok(!route.ok);
    assert.equal(route.reason, 'BrokerSecretUnavailable');
    assert.ok(!route.message.includes('hunter2'));
    return route.message;
  };
  assert.match(message('a'), /\(Secret no-key key url\) cannot be used: Secret ops\/no-key has no key url$/);
  assert.match(
    message('b'),
    /\(Secret unreadable key url\) cannot be used: Secret ops\/unreadable cannot be read: forbidden$/,
  );
  assert.match(message('c'), /\(Secret not-a-url key url\) cannot be used: not a broker URL$/);
  await s.joined.stop();
});

test('a Secret read once and then unreadable keeps its value (as a failed policy list keeps the policies)', async () => {
  const s = setup([policy('b', teamB())]);
  s.secrets.set('team-b', { url: URL_B });
  await s.start();
  await until('synced', () => s.joined.synced());
  s.failing.add('team-b');
  const reads = s.reads.length;
  await until('read again', () => s.reads.length > reads + 1);
  assert.deepEqual(s.routes.routeOf('ns'), { ok: true, url: URL_B });
  await s.joined.stop();
});

test('policies naming different brokers for one namespace: a PolicyViolation naming both, no guess', async () => {
  const s = setup([policy('b', teamB()), policy('c', teamB('team-c'))]);
  s.secrets.set('team-b', { url: URL_B });
  s.secrets.set('team-c', { url: 'redis://team-c:6379/0' });
  await s.start();
  await until('synced', () => s.joined.synced());
  await s.reconciler.reconcile([periodicTask('t')]);
  assert.equal(s.beat.get('ns/t'), undefined);
  const ready = s.lastReady('t');
  assert.equal(ready?.reason, 'PolicyViolation');
  assert.equal(
    ready?.message,
    "PeriodicTaskPolicy b, c: they name different brokers (b: Secret team-b key url; c: Secret team-c key url), and a namespace's runs go to one broker",
  );
  const route = s.routes.routeOf('ns');
  assert.ok(!route.ok && route.reason === 'PolicyViolation');
  // Two policies naming the same Secret key agree.
  s.setPolicies([policy('b', teamB()), policy('c', { ...teamB(), maxPriority: 3 })]);
  await until('re-read', () => s.routes.routeOf('ns').ok);
  assert.deepEqual(s.routes.routeOf('ns'), { ok: true, url: URL_B });
  await s.joined.stop();
});

test('only the Secrets a policy names are read, and a policy change reads a new one before it is passed on', async () => {
  const s = setup([policy('plain', { maxPriority: 3 })]);
  s.secrets.set('unrelated', { url: URL_B });
  await s.start();
  await until('synced', () => s.joined.synced());
  s.secrets.set('team-b', { url: URL_B });
  const before = s.changes();
  s.setPolicies([policy('b', teamB())]);
  await until('passed on', () => s.changes() > before);
  assert.deepEqual(s.routes.routeOf('ns'), { ok: true, url: URL_B }, 'read before the change was passed on');
  assert.ok(!s.reads.includes('unrelated'));
  await s.joined.stop();
});

test('a policy source that signals nothing at start (a directory without policies) is synced at once', async () => {
  const secrets = new BrokerSecrets(
    {
      start: async () => {},
      policies: () => [],
      namespaceLabels: (ns) => ({ 'kubernetes.io/metadata.name': ns }),
      synced: () => true,
      stop: async () => {},
    },
    secretStore().lookup,
    { logger, pollMs: 5 },
  );
  let changes = 0;
  await secrets.start(() => {
    changes += 1;
  });
  assert.equal(secrets.synced(), true);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(changes, 0, 'finding no Secret to read is no change');
  await secrets.stop();
});
