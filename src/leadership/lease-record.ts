// The pure part of leader election: client-go's rules for reading and writing a Lease record.
import type { LeaseSpec } from '../kube/kube-calls.ts';
import { microTime } from '../kube/micro-time.ts';

/** A comparable form of the record. */
export function recordFingerprint(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? '',
    spec?.leaseDurationSeconds ?? 0,
    spec?.acquireTime ?? '',
    spec?.renewTime ?? '',
    spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * Whether another holder's lease still stands. Never compares the record's timestamps with our clock
 * (clocks differ between nodes): the lease has expired when the record has not changed for its whole
 * duration as measured by our own clock since we first saw it.
 */
export function heldByOther(
  spec: LeaseSpec | undefined,
  identity: string,
  observedAt: number,
  now: number,
): boolean {
  const holder = spec?.holderIdentity ?? '';
  if (holder === '' || holder === identity) return false;
  return observedAt + (spec?.leaseDurationSeconds ?? 0) * 1000 > now;
}

/** The record to write to take or keep the lease. */
export function claimRecord(
  previous: LeaseSpec | undefined,
  identity: string,
  leaseDurationSeconds: number,
  now: Date,
): LeaseSpec {
  const renewing = previous?.holderIdentity === identity;
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing && previous?.acquireTime ? previous.acquireTime : microTime(now),
    renewTime: microTime(now),
    // A fresh Lease starts at 0; every change of holder counts one transition.
    leaseTransitions: previous === undefined ? 0 : renewing ? transitions : transitions + 1,
  };
}

/** client-go's release: no holder, and a 1 s duration so that a standby takes over at once. */
export function releaseRecord(previous: LeaseSpec | undefined, now: Date): LeaseSpec {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: microTime(now),
    renewTime: microTime(now),
    leaseTransitions: previous?.leaseTransitions ?? 0,
  };
}
