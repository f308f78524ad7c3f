// LeaseLeadership on a simulated clock: a Lease in memory that the test can cut off (the API server
// unreachable) and an epoch record in memory with advance-epoch-1.lua's rules (the script itself is tested
// on a real Redis in test/integration/store/lease-epoch.test.ts).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { LeadershipCallbacks } from '../../../src/contracts.ts';
import type { Lease, LeaseCalls } from '../../../src/kube/kube-calls.ts';
import type { EpochClaim, EpochRecord } from '../../../src/leadership/lease-epoch.ts';
import { LeaseLeadership } from '../../../src/leadership/lease-leadership.ts';
import { DEFAULT_TIMINGS } from '../../../src/leadership/lease-timings.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { type SimulatedClock, simulatedClock } from '../../support/fakes/simulated-clock.ts';

/** One Lease with optimistic concurrency; `reachable = false` fails every request as a network error would. */
class MemoryLeases implements LeaseCalls {
  lease: Lease | undefined;
  reachable = true;
  #version = 0;

  async readLease(): Promise<Lease> {
    this.#check();
    if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
    return structuredClone(this.lease);
  }

  async createLease(_namespace: string, lease: Lease): Promise<Lease> {
    this.#check();
    if (this.lease) throw Object.assign(new Error('exists'), { code: 409 });
    return this.#store(lease);
  }

  async replaceLease(_namespace: string, _name: string, lease: Lease): Promise<Lease> {
    this.#check();
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
      throw Object.assign(new Error('conflict'), { code: 409 });
    return this.#store(lease);
  }

  /** Another replica takes the Lease over, as the API server would let it once it expired. */
  takeOver(identity: string): void {
    const spec = this.lease!.spec!;
    this.#store({
      ...this.lease!,
      spec: { ...spec, holderIdentity: identity, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 },
    });
  }

  #check(): void {
    if (!this.reachable) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
  }

  #store(lease: Lease): Lease {
    this.#version += 1;
    this.lease = {
      ...structuredClone(lease),
      metadata: { ...lease.metadata, uid: 'lease-uid', resourceVersion: String(this.#version) },
    };
    return structuredClone(this.lease);
  }
}

/** advance-epoch-1.lua's rules for one Lease uid. */
class MemoryEpochs implements EpochRecord {
  stored: string | undefined;

  async advance(epoch: number, leaseUid: string, mode: 'take' | 'keep'): Promise<EpochClaim> {
    const mine = `${epoch} ${leaseUid}`;
    const [storedEpoch, storedUid] = this.stored?.split(' ') ?? [];
    const later = storedUid === leaseUid ? Number(storedEpoch) > epoch : mode === 'keep';
    if (this.stored !== undefined && this.stored !== mine && later)
      return { held: false, stored: this.stored };
    this.stored = mine;
    return { held: true, token: mine };
  }
}

function record() {
  const log = { started: 0, stopped: 0, fatal: [] as string[] };
  const callbacks: LeadershipCallbacks = {
    onStartedLeading: () => {
      log.started += 1;
    },
    onStoppedLeading: () => {
      log.stopped += 1;
    },
    onFatal: (reason) => log.fatal.push(reason),
  };
  return { log, callbacks };
}

/** When a leader cut off from the API server loses its Lease: its next renew attempt plus the deadline. */
const LOSS_WITHIN_MS = DEFAULT_TIMINGS.retryPeriodMs + DEFAULT_TIMINGS.renewDeadlineMs + 200;

let clock: SimulatedClock;
let leadership: LeaseLeadership | undefined;

afterEach(async () => {
  await leadership?.release().catch(() => {});
  leadership = undefined;
  clock.reset();
});

function start(holdOverLimitMs?: number) {
  clock = simulatedClock();
  const leases = new MemoryLeases();
  const epochs = new MemoryEpochs();
  leadership = new LeaseLeadership(leases, 'ns', createLogger('silent'), {
    epoch: epochs,
    timings: DEFAULT_TIMINGS,
    ...(holdOverLimitMs === undefined ? {} : { holdOverLimitMs }),
  });
  const { log, callbacks } = record();
  leadership.run(callbacks);
  return { leases, epochs, log, leadership };
}

test('the epoch is recorded before leadership starts, and is the fence token', async () => {
  const { epochs, log, leadership } = start();
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  assert.equal(epochs.stored, '0 lease-uid');
  assert.equal(leadership.token, '0 lease-uid');
});

test('a leader cut off from the API server holds over for the limit, then steps down by itself', async () => {
  const { leases, log, leadership } = start(60_000);
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  leases.reachable = false;
  const cutAt = clock.now();
  // The renew deadline passes: the hold-over keeps it leading (nobody else can take the Lease).
  await clock.advance(DEFAULT_TIMINGS.renewDeadlineMs + 5_000, 100);
  assert.ok(leadership.isLeader(), 'still leading in the hold-over');
  assert.equal(log.stopped, 0);
  await clock.advanceUntil('stepped down', () => log.stopped === 1, 70_000, 100);
  const heldFor = clock.now() - cutAt;
  // The hold-over starts when the renew attempt after the cut (within a retry period) reaches its deadline.
  assert.ok(heldFor >= 60_000, `not before the limit (${heldFor} ms)`);
  assert.ok(heldFor <= LOSS_WITHIN_MS + 60_000, `right after it (${heldFor} ms)`);
  assert.equal(leadership.isLeader(), false);
});

test('the default hold-over limit is four lease durations', async () => {
  const { leases, log } = start();
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  leases.reachable = false;
  const cutAt = clock.now();
  await clock.advanceUntil('stepped down', () => log.stopped === 1, 120_000, 100);
  const heldFor = clock.now() - cutAt;
  const limit = 4 * DEFAULT_TIMINGS.leaseDurationMs;
  assert.ok(heldFor >= limit && heldFor <= LOSS_WITHIN_MS + limit, `${heldFor} ms`);
});

test('a leader in the hold-over steps down within one retry period of a successor taking the epoch', async () => {
  const { leases, epochs, log, leadership } = start(600_000);
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  leases.reachable = false;
  await clock.advance(DEFAULT_TIMINGS.leaseDurationMs + 5_000, 100);
  assert.ok(leadership.isLeader());
  // The standby took the Lease (transition 1) and recorded its epoch.
  assert.ok((await epochs.advance(1, 'lease-uid', 'take')).held);
  const takenAt = clock.now();
  await clock.advanceUntil('stepped down', () => log.stopped === 1, 10_000, 100);
  assert.ok(clock.now() - takenAt <= DEFAULT_TIMINGS.retryPeriodMs + 100, `${clock.now() - takenAt} ms`);
});

test('confirm after a refused write steps down at once when a later epoch is in Redis', async () => {
  const { epochs, log, leadership } = start();
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  await epochs.advance(5, 'lease-uid', 'take');
  assert.equal(await leadership.confirm(), false);
  assert.equal(log.stopped, 1);
});

test('an epoch Redis lost is written back: the leader carries on', async () => {
  const { epochs, log, leadership } = start();
  await clock.advanceUntil('leading', () => log.started === 1, 5_000);
  epochs.stored = undefined;
  assert.equal(await leadership.confirm(), true);
  assert.equal(epochs.stored, '0 lease-uid');
  assert.equal(log.stopped, 0);
});

test('a replica that takes the Lease but finds a later epoch never leads', async () => {
  clock = simulatedClock();
  const leases = new MemoryLeases();
  const epochs = new MemoryEpochs();
  epochs.stored = '3 lease-uid';
  leadership = new LeaseLeadership(leases, 'ns', createLogger('silent'), { epoch: epochs });
  const { log, callbacks } = record();
  leadership.run(callbacks);
  await clock.advanceUntil('refused', () => log.fatal.length === 1, 5_000);
  assert.equal(log.started, 0);
  assert.match(log.fatal[0]!, /later leader's epoch \(3 lease-uid\)/);
});
