// The Secrets PeriodicTaskPolicies name for their brokers, read from the operator's own namespace only: one GET
// per named Secret (the chart's Role allows get, list and watch on Secrets in that namespace and nowhere else).
import { isPlainObject } from '../api/plain-object.ts';
import type { SecretLookup } from '../contracts.ts';
import { describeApiError, httpStatus } from './api-errors.ts';
import type { SecretCalls } from './kube-calls.ts';

export class KubeSecretLookup implements SecretLookup {
  readonly #api: SecretCalls;
  readonly #namespace: string;

  constructor(api: SecretCalls, namespace: string) {
    this.#api = api;
    this.#namespace = namespace;
  }

  async read(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    let secret: unknown;
    try {
      secret = await this.#api.readSecret(this.#namespace, name);
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404) return undefined;
      if (status === 403)
        throw new Error(
          `forbidden: the operator may get Secrets in its own namespace ${this.#namespace} (the chart's Role grants it)`,
        );
      throw new Error(describeApiError(error));
    }
    const data = isPlainObject(secret) && isPlainObject(secret.data) ? secret.data : {};
    const keys: Record<string, string> = {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string') keys[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    return keys;
  }

  describe(name: string): string {
    return `Secret ${this.#namespace}/${name}`;
  }
}
