// The policies in force, as the reconciler asks about them: which select a namespace (cached until the next
// change of a policy or of namespace labels) and what they say of a task. `version` grows with each change,
// so the reconciler can tell a task checked against older policies from one checked against these.
import type { PeriodicTaskPolicy } from '../api/types.ts';
import type { PolicySource } from '../contracts.ts';
import { type BrokerChoice, chooseBroker } from './broker-choice.ts';
import { evaluatePolicies, type PolicySubject, type PolicyVerdict } from './evaluate.ts';
import { selects } from './label-selector.ts';

export class PolicyBook {
  readonly #source: PolicySource;
  readonly #byNamespace = new Map<string, readonly PeriodicTaskPolicy[]>();
  #version = 0;

  constructor(source: PolicySource) {
    this.#source = source;
  }

  get version(): number {
    return this.#version;
  }

  /** Every policy in force. */
  policies(): readonly PeriodicTaskPolicy[] {
    return this.#source.policies();
  }

  /** The source's policies or namespace labels changed: every task is checked again. */
  changed(): void {
    this.#version += 1;
    this.#byNamespace.clear();
  }

  /** The policies that select the namespace ("" for a hand-written Redis key: no labels at all). */
  forNamespace(namespace: string): readonly PeriodicTaskPolicy[] {
    let found = this.#byNamespace.get(namespace);
    if (!found) {
      const labels = namespace === '' ? {} : this.#source.namespaceLabels(namespace);
      found = this.#source.policies().filter((p) => selects(p.spec.namespaceSelector, labels));
      this.#byNamespace.set(namespace, found);
    }
    return found;
  }

  /**
   * The namespace's run rate limit: the lowest maxRunsPerSecond of its Enforce policies (a Warn policy only
   * reports), or undefined when none sets one.
   */
  runsPerSecond(namespace: string): number | undefined {
    let rate: number | undefined;
    for (const { spec } of this.forNamespace(namespace)) {
      if ((spec.mode ?? 'Enforce') !== 'Enforce' || spec.maxRunsPerSecond === undefined) continue;
      rate = Math.min(rate ?? Number.POSITIVE_INFINITY, spec.maxRunsPerSecond);
    }
    return rate;
  }

  /** The rules of each policy, and the brokers they name: different ones are an enforced violation. */
  evaluate(subject: PolicySubject): PolicyVerdict {
    const policies = this.forNamespace(subject.def.namespace);
    const verdict = evaluatePolicies(policies, subject);
    const broker = chooseBroker(policies);
    if (broker.kind === 'conflict')
      verdict.enforced.push({
        policy: broker.policies.join(', '),
        mode: 'Enforce',
        rule: 'broker',
        message: broker.message,
      });
    return verdict;
  }

  /** The broker the namespace's policies name. */
  brokerOf(namespace: string): BrokerChoice {
    return chooseBroker(this.forNamespace(namespace));
  }
}
