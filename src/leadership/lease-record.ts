// The pure part of leader election: client-go's rules for reading and writing a Lease record.
import { type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';

/** A comparable form of the record: times as the API server returned them (strings), or our own Dates. */
export function recordFingerprint(spec: V1LeaseSpec | undefined): string {
  const time = (value: unknown) => (value instanceof Date ? value.toISOString() : String(value ?? ''));
  return JSON.stringify([
    spec?.holderIdentity ?? '',
    spec?.leaseDurationSeconds ?? 0,
    time(spec?.acquireTime),
    time(spec?.renewTime),
    spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * Whether another holder's lease still stands. Never compares the record's timestamps with our clock
 * (clocks differ between nodes): the lease has expired when the record has not changed for its whole
 * duration as measured by our own clock since we first saw it.
 */
export function heldByOther(
  spec: V1LeaseSpec | undefined,
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
  previous: V1LeaseSpec | undefined,
  identity: string,
  leaseDurationSeconds: number,
  now: Date,
): V1LeaseSpec {
  const renewing = previous?.holderIdentity === identity;
  const transitions = previous?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing && previous?.acquireTime ? previous.acquireTime : new V1MicroTime(now.getTime()),
    renewTime: new V1MicroTime(now.getTime()),
    // A fresh Lease starts at 0; every change of holder counts one transition.
    leaseTransitions: previous === undefined ? 0 : renewing ? transitions : transitions + 1,
  };
}

/** client-go's release: no holder, and a 1 s duration so that a standby takes over at once. */
export function releaseRecord(previous: V1LeaseSpec | undefined, now: Date): V1LeaseSpec {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: new V1MicroTime(now.getTime()),
    renewTime: new V1MicroTime(now.getTime()),
    leaseTransitions: previous?.leaseTransitions ?? 0,
  };
}
