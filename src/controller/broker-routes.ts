// The broker each namespace's runs go to, from its policies and the Secrets they name: the one answer both the
// reconciler (a task whose broker cannot be used is held back, Ready False) and the dispatcher (each run to
// its namespace's broker) read, so the two never disagree. Cached per namespace until the policies, the
// namespaces' labels or the Secrets change (the book's version).
import type { BrokerRoute, BrokerRouter } from '../contracts.ts';
import { describeRef } from '../policy/broker-choice.ts';
import type { PolicyBook } from '../policy/policy-book.ts';
import type { BrokerSecrets } from './broker-secrets.ts';

export interface BrokerRoutesOptions {
  book: PolicyBook;
  secrets: Pick<BrokerSecrets, 'value'>;
  /** Why a URL read from a Secret cannot be a broker URL (without repeating it), or undefined when it can. */
  checkUrl: (url: string) => string | undefined;
}

export class BrokerRoutes implements BrokerRouter {
  readonly #o: BrokerRoutesOptions;
  readonly #routes = new Map<string, BrokerRoute>();
  #version = -1;

  constructor(options: BrokerRoutesOptions) {
    this.#o = options;
  }

  routeOf(namespace: string): BrokerRoute {
    this.#current();
    let route = this.#routes.get(namespace);
    if (!route) {
      route = this.#resolve(namespace);
      this.#routes.set(namespace, route);
    }
    return route;
  }

  /** Every broker URL a policy names and that can be used now: the lines to keep open. */
  named(): Set<string> {
    const urls = new Set<string>();
    for (const policy of this.#o.book.policies()) {
      const ref = policy.spec.broker?.secretKeyRef;
      const read = ref ? this.#o.secrets.value(ref) : undefined;
      if (read?.ok && this.#o.checkUrl(read.value.trim()) === undefined) urls.add(read.value.trim());
    }
    return urls;
  }

  #current(): void {
    if (this.#version === this.#o.book.version) return;
    this.#version = this.#o.book.version;
    this.#routes.clear();
  }

  #resolve(namespace: string): BrokerRoute {
    const choice = this.#o.book.brokerOf(namespace);
    if (choice.kind === 'default') return { ok: true };
    if (choice.kind === 'conflict') {
      return {
        ok: false,
        reason: 'PolicyViolation',
        message: `PeriodicTaskPolicy ${choice.policies.join(', ')}: ${choice.message}`,
      };
    }
    const named = `the broker of PeriodicTaskPolicy ${choice.policies.join(', ')} (${describeRef(choice.ref)})`;
    const read = this.#o.secrets.value(choice.ref);
    if (!read.ok)
      return {
        ok: false,
        reason: 'BrokerSecretUnavailable',
        message: `${named} cannot be used: ${read.reason}`,
      };
    // A URL is never surrounded by blanks; a value written with `echo` ends in a newline.
    const url = read.value.trim();
    const problem = this.#o.checkUrl(url);
    if (problem !== undefined)
      return { ok: false, reason: 'BrokerSecretUnavailable', message: `${named} cannot be used: ${problem}` };
    return { ok: true, url };
  }
}
