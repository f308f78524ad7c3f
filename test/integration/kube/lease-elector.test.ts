// Leader election on a real Lease, as the operator's ServiceAccount (create on leases, get/update only on
// the Lease named celerybeat-operator). Default client-go timings: lease 15 s, renew deadline 10 s, retry 2 s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LeaseCalls } from '../../../src/kube/kube-calls.ts';
import { LEASE_NAME, LeaseElector } from '../../../src/leadership/lease-elector.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { eventually, type OperatorIdentity, operatorIdentity, testLogger } from './operator-identity.ts';

let cluster: ClusterHandle;
const identities: OperatorIdentity[] = [];

before(async () => {
  cluster = await sharedCluster();
});

after(async () => {
  for (const identity of identities) await identity.cleanup();
});

async function freshIdentity(): Promise<OperatorIdentity> {
  const identity = await operatorIdentity(cluster, 'lease');
  identities.push(identity);
  return identity;
}

interface Tracked {
  elector: LeaseElector;
  started: number;
  stopped: number;
  leaders: string[];
}

function elector(identity: OperatorIdentity, name: string): Tracked {
  const tracked: Tracked = {
    started: 0,
    stopped: 0,
    leaders: [],
    elector: undefined as unknown as LeaseElector,
  };
  tracked.elector = new LeaseElector(identity.api, {
    namespace: identity.namespace,
    identity: name,
    logger: testLogger(),
    onStartedLeading: () => {
      tracked.started += 1;
    },
    onStoppedLeading: () => {
      tracked.stopped += 1;
    },
    onNewLeader: (leader) => tracked.leaders.push(leader),
  });
  return tracked;
}

interface LeaseJson {
  spec: {
    holderIdentity?: string;
    leaseTransitions?: number;
    leaseDurationSeconds?: number;
    renewTime?: string;
  };
}

async function lease(identity: OperatorIdentity): Promise<LeaseJson> {
  return JSON.parse(
    await cluster.kubectl(['get', 'lease', LEASE_NAME, '-n', identity.namespace, '-o', 'json']),
  );
}

test('two candidates: exactly one leads; the other takes over when the leader stops renewing', async () => {
  const identity = await freshIdentity();
  const a = elector(identity, 'candidate-a');
  const b = elector(identity, 'candidate-b');
  a.elector.start();
  b.elector.start();
  try {
    await eventually(() => a.elector.isLeader() || b.elector.isLeader(), 20_000, 'a leader');
    for (let i = 0; i < 60; i++) {
      assert.ok(!(a.elector.isLeader() && b.elector.isLeader()), 'never two leaders');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const [leader, standby] = a.elector.isLeader() ? [a, b] : [b, a];
    assert.equal(leader.started, 1);
    assert.equal(standby.started, 0);
    // The standby may have lost a create race and waits one jittered retry period (≤ 4.4 s) before it reads.
    await eventually(() => standby.leaders.length > 0, 6000, 'the standby to observe the leader');
    assert.deepEqual(standby.leaders, [leader.elector.identity], 'the standby learnt who leads');
    const before = await lease(identity);
    assert.equal(before.spec.holderIdentity, leader.elector.identity);
    assert.equal(before.spec.leaseDurationSeconds, 15);
    assert.match(before.spec.renewTime ?? '', /\.\d{6}Z$/, 'MicroTime');

    // The leader vanishes without releasing (a crash): the standby must wait for the lease to expire.
    const crashedAt = Date.now();
    await leader.elector.stop();
    await eventually(() => standby.elector.isLeader(), 30_000, 'the standby to take over');
    const takeover = Date.now() - crashedAt;
    assert.ok(takeover >= 10_000, `waited for expiry (${takeover} ms)`);
    assert.ok(
      // Worst case as in client-go: the standby may first see the last record one retry after the crash,
      // waits the lease duration from then, and notices the expiry at its next retry.
      takeover <= 15_000 + 2 * 2.2 * 2_000 + 1_000,
      `took over within lease duration + two retries (${takeover} ms)`,
    );
    assert.equal(leader.stopped, 0, 'stop() is not a loss of leadership');
    const afterTakeover = await lease(identity);
    assert.equal(afterTakeover.spec.holderIdentity, standby.elector.identity);
    assert.equal(afterTakeover.spec.leaseTransitions, (before.spec.leaseTransitions ?? 0) + 1);
    assert.equal(standby.elector.leaseTransitions(), afterTakeover.spec.leaseTransitions);
  } finally {
    await a.elector.stop();
    await b.elector.stop();
  }
});

test('release() hands the lease over at once', async () => {
  const identity = await freshIdentity();
  const first = elector(identity, 'first');
  first.elector.start();
  await eventually(() => first.elector.isLeader(), 10_000, 'the first leader');
  const second = elector(identity, 'second');
  second.elector.start();
  try {
    await eventually(
      () => second.leaders.includes('first'),
      10_000,
      'the second candidate to see the leader',
    );
    const releasedAt = Date.now();
    await first.elector.release();
    assert.equal(first.elector.isLeader(), false);
    await eventually(() => second.elector.isLeader(), 15_000, 'the second candidate to lead');
    const handover = Date.now() - releasedAt;
    // A released lease lasts 1 s; the candidate needs at most two retry periods (2 s × 2.2) to see it.
    assert.ok(handover < 10_000, `handover after release took ${handover} ms`);
    assert.equal((await lease(identity)).spec.holderIdentity, 'second');
  } finally {
    await first.elector.stop();
    await second.elector.stop();
  }
});

test('release() after a stop that abandoned a renew the API server applied still hands the lease over', async () => {
  const identity = await freshIdentity();
  // The renew is written, but its answer is held back: the elector's copy of the Lease is one version old
  // when release() writes, as when SIGTERM lands while a renew is on the wire.
  let hold: (() => void) | undefined;
  let held: Promise<void> | undefined;
  let heldReached: (() => void) | undefined;
  const reached = new Promise<void>((resolve) => {
    heldReached = resolve;
  });
  const api: LeaseCalls = {
    readLease: (namespace, name) => identity.api.readLease(namespace, name),
    createLease: (namespace, body) => identity.api.createLease(namespace, body),
    replaceLease: async (namespace, name, body) => {
      const written = await identity.api.replaceLease(namespace, name, body);
      if (hold && !held) {
        held = new Promise<void>((resolve) => {
          hold = resolve;
        });
        heldReached?.();
        await held;
      }
      return written;
    },
  };
  const leader = new LeaseElector(api, {
    namespace: identity.namespace,
    identity: 'renewing',
    logger: testLogger(),
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
  });
  leader.start();
  try {
    await eventually(() => leader.isLeader(), 10_000, 'leadership');
    hold = () => {};
    await reached;
    await leader.release();
    const released = await lease(identity);
    assert.equal(released.spec.holderIdentity ?? '', '', 'the Lease has no holder');
    assert.equal(released.spec.leaseDurationSeconds, 1, 'a released Lease lasts 1 s');
  } finally {
    hold?.();
    await leader.stop();
  }
});

test('a holder timestamp from a skewed clock does not shorten the lease', async () => {
  const identity = await freshIdentity();
  // Someone else holds the lease, and its renewTime says 2001: only our own clock may expire it.
  await cluster.kubectl(['apply', '-f', '-'], {
    input: [
      'apiVersion: coordination.k8s.io/v1',
      'kind: Lease',
      `metadata: {name: ${LEASE_NAME}, namespace: ${identity.namespace}}`,
      'spec:',
      '  holderIdentity: ghost',
      '  leaseDurationSeconds: 6',
      '  acquireTime: "2001-01-01T00:00:00.000000Z"',
      '  renewTime: "2001-01-01T00:00:00.000000Z"',
      '  leaseTransitions: 3',
      '',
    ].join('\n'),
  });
  const candidate = elector(identity, 'candidate');
  const startedAt = Date.now();
  candidate.elector.start();
  try {
    // Once it has read the ghost's lease it must wait out the lease (checked below: no takeover before 6 s).
    await eventually(() => candidate.leaders.includes('ghost'), 10_000, 'the ghost seen as leader');
    assert.equal(candidate.elector.isLeader(), false, 'the ghost lease is honoured for its duration');
    assert.deepEqual(candidate.leaders, ['ghost']);
    await eventually(() => candidate.elector.isLeader(), 15_000, 'takeover after the ghost lease expired');
    assert.ok(Date.now() - startedAt >= 6000);
    assert.equal((await lease(identity)).spec.leaseTransitions, 4);
  } finally {
    await candidate.elector.stop();
  }
});

test('a leader that cannot renew within the deadline stops leading', async () => {
  const identity = await freshIdentity();
  const only = elector(identity, 'only');
  only.elector.start();
  try {
    await eventually(() => only.elector.isLeader(), 10_000, 'leadership');
    // Revoke the Lease permissions: every renew is now Forbidden.
    await cluster.kubectl([
      'delete',
      'rolebinding',
      'celerybeat-operator-leader-election',
      '-n',
      identity.namespace,
    ]);
    const revokedAt = Date.now();
    await eventually(() => only.stopped === 1, 20_000, 'onStoppedLeading');
    const lostAfter = Date.now() - revokedAt;
    assert.ok(
      lostAfter <= 2_000 + 10_000 + 4_000,
      `leadership lost ${lostAfter} ms after renewals began to fail`,
    );
    assert.equal(only.elector.isLeader(), false);
  } finally {
    await only.elector.stop();
  }
});
