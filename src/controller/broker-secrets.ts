// The Secrets the PeriodicTaskPolicies name for their brokers, read beside the policies: this source is the
// policy source with those Secrets added. A policy change reads the Secrets it names before it is passed on
// (a task is never checked against a policy whose Secret was not read yet), and the Secrets are read again
// every poll period, so a Secret created, fixed or rotated takes effect without a restart. Only Secrets a
// policy names are read. A read that fails keeps the value last read, as the policy reader keeps its
// policies; a Secret never read successfully is reported by the tasks that need it.
import { createHash } from 'node:crypto';
import type { PeriodicTaskPolicy, SecretKeySelector } from '../api/types.ts';
import type { PolicySource, SecretLookup } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { sleep } from '../timing/sleep.ts';

export type SecretRead = { ok: true; value: string } | { ok: false; reason: string };

type Found = { keys: Readonly<Record<string, string>> | undefined } | { error: string };

export interface BrokerSecretsOptions {
  logger: Logger;
  /** How often the named Secrets are read again (default 5 s, the policy reader's period). */
  pollMs?: number;
}

export class BrokerSecrets implements PolicySource {
  readonly #policies: PolicySource;
  readonly #lookup: SecretLookup;
  readonly #logger: Logger;
  readonly #pollMs: number;
  #found = new Map<string, Found>();
  /** The read error last logged of each Secret, so a failing read is logged once, not every period. */
  readonly #reported = new Map<string, string>();
  /** A digest of what the last read found: an unchanged read signals nothing (nor does finding none at all). */
  #seen = digest([]);
  /** The Secrets the last complete read covered. */
  #readNames: ReadonlySet<string> = new Set();
  /** Reads, one at a time: a policy change and the poll never read concurrently. */
  #reading: Promise<boolean> = Promise.resolve(false);
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(policies: PolicySource, lookup: SecretLookup, options: BrokerSecretsOptions) {
    this.#policies = policies;
    this.#lookup = lookup;
    this.#logger = options.logger;
    this.#pollMs = options.pollMs ?? 5000;
  }

  async start(onChange: () => void): Promise<void> {
    await this.#policies.start(() => {
      void this.#read().then(() => onChange());
    });
    this.#loop = (async () => {
      while (!this.#stop.signal.aborted) {
        await sleep(this.#pollMs, this.#stop.signal);
        if (this.#stop.signal.aborted || !this.#policies.synced()) continue;
        if (await this.#read()) onChange();
      }
    })();
  }

  policies(): readonly PeriodicTaskPolicy[] {
    return this.#policies.policies();
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> {
    return this.#policies.namespaceLabels(namespace);
  }

  /** True once the policies are read and every Secret they name has been read. */
  synced(): boolean {
    if (!this.#policies.synced()) return false;
    for (const name of this.#named()) if (!this.#readNames.has(name)) return false;
    return true;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all([this.#policies.stop(), this.#loop]);
  }

  /** The value of a Secret's key as last read (the Secret must be one a policy names), or why there is none. */
  value(ref: SecretKeySelector): SecretRead {
    const found = this.#found.get(ref.name);
    const where = this.#lookup.describe(ref.name);
    if (!found) return { ok: false, reason: `${where} has not been read yet` };
    if ('error' in found) return { ok: false, reason: `${where} cannot be read: ${found.error}` };
    if (!found.keys) return { ok: false, reason: `${where} does not exist` };
    const value = found.keys[ref.key];
    if (value === undefined) return { ok: false, reason: `${where} has no key ${ref.key}` };
    return { ok: true, value };
  }

  /** The Secrets the policies name. */
  #named(): Set<string> {
    return new Set(
      this.#policies.policies().flatMap((p) => (p.spec.broker ? [p.spec.broker.secretKeyRef.name] : [])),
    );
  }

  #read(): Promise<boolean> {
    this.#reading = this.#reading.then(
      () => this.#readNamed(),
      () => this.#readNamed(),
    );
    return this.#reading;
  }

  /** Reads every Secret a policy names; true when what they hold changed. */
  async #readNamed(): Promise<boolean> {
    const names = this.#named();
    const found = new Map<string, Found>();
    await Promise.all(
      [...names].map(async (name) => {
        try {
          found.set(name, { keys: await this.#lookup.read(name) });
          this.#reported.delete(name);
        } catch (error) {
          const message = (error as Error).message;
          const last = this.#found.get(name);
          const kept = last !== undefined && !('error' in last);
          if (this.#reported.get(name) !== message) {
            this.#reported.set(name, message);
            this.#logger.error(
              { secret: this.#lookup.describe(name), reason: message },
              kept
                ? 'reading a broker Secret failed; keeping the value last read'
                : 'reading a broker Secret failed',
            );
          }
          found.set(name, kept ? last : { error: message });
        }
      }),
    );
    const ordered = [...found].sort(([a], [b]) => (a < b ? -1 : 1));
    const seen = digest(ordered);
    this.#found = found;
    this.#readNames = names;
    if (seen === this.#seen) return false;
    this.#seen = seen;
    this.#logger.info(
      { secrets: ordered.map(([name]) => this.#lookup.describe(name)) },
      'broker Secrets read',
    );
    return true;
  }
}

/** What a read found, as a digest: no second copy of the Secrets' values is kept. */
function digest(found: readonly [string, Found][]): string {
  return createHash('sha256').update(JSON.stringify(found)).digest('hex');
}
