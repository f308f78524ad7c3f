// The plugin's API calls: get and merge-patch one PeriodicTask, as the user of the kubeconfig's context, and
// nothing else, so the user needs only those two verbs. A failure becomes one line in kubectl's words.
import type { PeriodicTask } from '../api/types.ts';
import type { TaskPatch } from '../cli/task-edits.ts';
import { KubeApi } from '../kube/api-client.ts';
import { ApiError, describeApiError, httpStatus } from '../kube/api-errors.ts';
import { KubeConfigError, type KubeConnection, loadKubeConfig } from '../kube/kubeconfig.ts';
import { taskPath } from '../kube/resource-paths.ts';
import type { Connection } from './plugin-args.ts';

/** Recorded in managedFields: who set spec.pause or an annotation. */
const FIELD_MANAGER = 'kubectl-celerybeat';
const REQUEST_TIMEOUT_MS = 30_000;

/** A failure to report in one line (no stack trace): no such task, forbidden, unreachable, timed out. */
export class PluginError extends Error {}

/**
 * The kubeconfig and context kubectl would use: --kubeconfig, else KUBECONFIG, else ~/.kube/config (the
 * operator's loader, which inside a pod tries the pod's service account before ~/.kube/config).
 */
export function connect(connection: Connection): { kube: KubeConnection; namespace: string } {
  let kube: KubeConnection;
  try {
    kube = loadKubeConfig(connection.kubeconfig, connection.context);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new PluginError(error.message);
    throw error;
  }
  return { kube, namespace: connection.namespace ?? kube.namespace ?? 'default' };
}

function withTimeout<T>(request: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PluginError(`${what}: no answer from the API server within 30 s`)),
      REQUEST_TIMEOUT_MS,
    );
  });
  return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
}

export class TaskClient {
  readonly #api: KubeApi;
  readonly #server: string;
  readonly namespace: string;

  constructor(kube: KubeConnection, namespace: string) {
    this.#api = new KubeApi(kube);
    this.#server = kube.server;
    this.namespace = namespace;
  }

  /** The API server's words for a failure, with what the user can do about the common ones. */
  #explain(error: unknown, name: string): PluginError {
    if (error instanceof PluginError) return error;
    const status = httpStatus(error);
    const where = `periodictask "${name}" in namespace "${this.namespace}"`;
    if (status === 404) {
      // A 404 without the object's name is about the resource type: the CRD is not installed.
      if (serverStatus(error)?.details?.name === name) return new PluginError(`${where} not found`);
      return new PluginError(
        `the API server at ${this.#server} has no PeriodicTask resource (is the celerybeat.io CRD installed?)`,
      );
    }
    if (status === undefined)
      return new PluginError(`cannot reach the API server at ${this.#server}: ${describeApiError(error)}`);
    const message = serverStatus(error)?.message ?? describeApiError(error);
    return new PluginError(`${message} (HTTP ${status})`);
  }

  async get(name: string): Promise<PeriodicTask> {
    try {
      const request = this.#api.request('GET', taskPath(this.namespace, name));
      return (await withTimeout(request, `get ${name}`)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }

  /** A JSON merge patch of the resource. */
  async patch(name: string, body: TaskPatch): Promise<PeriodicTask> {
    try {
      const request = this.#api.request('PATCH', taskPath(this.namespace, name), {
        query: { fieldManager: FIELD_MANAGER },
        body,
        contentType: 'application/merge-patch+json',
      });
      return (await withTimeout(request, `patch ${name}`)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }
}

function serverStatus(error: unknown) {
  return error instanceof ApiError ? error.serverStatus : undefined;
}
