// The cluster's PeriodicTaskPolicies and the labels of its Namespaces, read by listing both every poll period.
// Both sets are small and change rarely, so a list is all a change needs, and a failed list changes nothing:
// the last complete read stays in force (a policy is never dropped because the API server did not answer).
// Until the first complete read the source is not synced, so no task is scheduled before its policies are
// known. A cluster without the PeriodicTaskPolicy CRD (404) has no policies.
import { isPlainObject } from '../api/plain-object.ts';
import type { PeriodicTaskPolicy } from '../api/types.ts';
import type { PolicySource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { readPolicy } from '../policy/read-policy.ts';
import { sleep } from '../timing/sleep.ts';
import { describeApiError, httpStatus } from './api-errors.ts';
import type { PolicyCalls } from './kube-calls.ts';

export interface PolicyReaderOptions {
  logger: Logger;
  /** How often both lists are read (default 5 s): a policy edit takes effect within this. */
  pollMs?: number;
  pageSize?: number;
}

const NAME_LABEL = 'kubernetes.io/metadata.name';
const FIRST_READ_RETRY_MS = 500;

export class PolicyReader implements PolicySource {
  readonly #api: PolicyCalls;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #pageSize: number;
  #policies: readonly PeriodicTaskPolicy[] = [];
  #labels = new Map<string, Readonly<Record<string, string>>>();
  /** What the last read found, as text: an unchanged read signals nothing. */
  #seen = '';
  #synced = false;
  /** Policies found invalid, by name and resourceVersion, so each is logged once. */
  readonly #refused = new Set<string>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(api: PolicyCalls, options: PolicyReaderOptions) {
    this.#api = api;
    this.#logger = options.logger;
    this.#pollMs = options.pollMs ?? 5000;
    this.#pageSize = options.pageSize ?? 500;
  }

  async start(onChange: () => void): Promise<void> {
    if (this.#loop) throw new Error('PeriodicTaskPolicy reader already started');
    this.#loop = this.#run(onChange);
  }

  policies(): readonly PeriodicTaskPolicy[] {
    return this.#policies;
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> {
    return this.#labels.get(namespace) ?? { [NAME_LABEL]: namespace };
  }

  synced(): boolean {
    return this.#synced;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(onChange: () => void): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        if (await this.#read()) onChange();
      } catch (error) {
        const status = httpStatus(error);
        this.#logger.error(
          { err: error, status, reason: describeApiError(error) },
          status === 403
            ? 'cannot list PeriodicTaskPolicies or Namespaces (the operator needs list on both, cluster-wide); keeping the policies last read'
            : 'reading PeriodicTaskPolicies failed; keeping the policies last read',
        );
      }
      // Until the first complete read nothing is scheduled: try again soon rather than a whole period later.
      await sleep(
        this.#synced ? this.#pollMs : Math.min(this.#pollMs, FIRST_READ_RETRY_MS),
        this.#stop.signal,
      );
    }
  }

  /** Reads both sets; true when what they hold changed (the first read always is a change). */
  async #read(): Promise<boolean> {
    const policies = await this.#listPolicies();
    const labels = new Map<string, Readonly<Record<string, string>>>();
    for (const item of await this.#listAll((page) => this.#api.listNamespaces(page))) {
      const meta = isPlainObject(item) && isPlainObject(item.metadata) ? item.metadata : undefined;
      if (typeof meta?.name !== 'string') continue;
      const raw = isPlainObject(meta.labels) ? meta.labels : {};
      labels.set(
        meta.name,
        Object.fromEntries(
          Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'),
        ),
      );
    }
    const seen = JSON.stringify([policies.map((p) => [p.metadata.name, p.spec]), [...labels]]);
    const first = !this.#synced;
    this.#policies = policies;
    this.#labels = labels;
    this.#synced = true;
    if (seen === this.#seen && !first) return false;
    this.#seen = seen;
    this.#logger.info({ policies: policies.map((p) => p.metadata.name) }, 'PeriodicTaskPolicies read');
    return true;
  }

  async #listPolicies(): Promise<PeriodicTaskPolicy[]> {
    let items: unknown[];
    try {
      items = await this.#listAll((page) => this.#api.listPolicies(page));
    } catch (error) {
      // No CRD, no policy: the cluster is a trusted one until it is installed.
      if (httpStatus(error) === 404) return [];
      throw error;
    }
    const policies: PeriodicTaskPolicy[] = [];
    for (const item of items) {
      const reading = readPolicy(item);
      if (reading.ok) {
        policies.push(reading.policy);
        continue;
      }
      const meta = isPlainObject(item) && isPlainObject(item.metadata) ? item.metadata : {};
      const id = `${String(meta.name)}@${String(meta.resourceVersion)}`;
      if (this.#refused.has(id)) continue;
      this.#refused.add(id);
      this.#logger.error(
        { policy: meta.name, reason: reading.errors.map((e) => `${e.field}: ${e.message}`).join('; ') },
        'PeriodicTaskPolicy cannot be read; it is not applied',
      );
    }
    return policies.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  async #listAll(
    list: (page: { limit: number; continueToken: string | undefined }) => Promise<unknown>,
  ): Promise<unknown[]> {
    const items: unknown[] = [];
    let continueToken: string | undefined;
    do {
      const page = await list({ limit: this.#pageSize, continueToken });
      if (!isPlainObject(page) || !Array.isArray(page.items)) throw new Error('a list answer has no items');
      items.push(...page.items);
      const meta = isPlainObject(page.metadata) ? page.metadata : {};
      // The raw JSON says `continue`; the client's typed lists `_continue`.
      const next = meta.continue ?? meta._continue;
      continueToken = typeof next === 'string' && next !== '' ? next : undefined;
    } while (continueToken !== undefined);
    return items;
  }
}
