// Which broker the policies selecting a namespace name for it. A broker is routing, not a limit, so it
// applies in Enforce and Warn mode alike; policies that name different ones are a conflict the operator
// reports rather than a guess between them.
import type { PeriodicTaskPolicy, SecretKeySelector } from '../api/types.ts';

export type BrokerChoice =
  /** No policy names a broker: the operator's own. */
  | { kind: 'default' }
  /** The Secret key every policy that names a broker names, and those policies. */
  | { kind: 'secret'; ref: SecretKeySelector; policies: string[] }
  | { kind: 'conflict'; policies: string[]; message: string };

export function chooseBroker(policies: readonly PeriodicTaskPolicy[]): BrokerChoice {
  const naming = policies.filter((p) => p.spec.broker !== undefined);
  if (naming.length === 0) return { kind: 'default' };
  const names = naming.map((p) => p.metadata.name);
  const refs = new Map(
    naming.map((p) => [describeRef(p.spec.broker!.secretKeyRef), p.spec.broker!.secretKeyRef]),
  );
  if (refs.size === 1) return { kind: 'secret', ref: [...refs.values()][0]!, policies: names };
  const each = naming.map((p) => `${p.metadata.name}: ${describeRef(p.spec.broker!.secretKeyRef)}`);
  return {
    kind: 'conflict',
    policies: names,
    message: `they name different brokers (${each.join('; ')}), and a namespace's runs go to one broker`,
  };
}

/** `Secret team-b-broker key url`: how a message names a broker's Secret (never its value). */
export function describeRef(ref: SecretKeySelector): string {
  return `Secret ${ref.name} key ${ref.key}`;
}
