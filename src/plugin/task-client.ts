// The plugin's API calls: get and merge-patch one PeriodicTask, and list them for `timeline`, as the user of
// the kubeconfig's context (or whom kubectl's flags name), and nothing else, so the user needs only those
// verbs. A failure becomes one line in kubectl's words.
import { type PeriodicTask, writtenNamespace } from '../api/types.ts';
import type { TaskPatch } from '../cli/task-edits.ts';
import { ApiError, describeApiError, httpStatus } from '../kube/api-errors.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { KubeConfigError, type KubeConnection, loadKubeConnection } from '../kube/kube-connection.ts';
import { withTimeout } from '../timing/with-timeout.ts';
import type { Connection } from './plugin-args.ts';

/** Recorded in managedFields: who set spec.pause or an annotation. */
const FIELD_MANAGER = 'kubectl-celerybeat';
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A failure to report in one line (no stack trace): no such task, forbidden, unreachable, timed out. */
export class PluginError extends Error {}

/**
 * The connection kubectl would use: --kubeconfig, else KUBECONFIG, else ~/.kube/config (inside a pod the
 * pod's service account is tried before ~/.kube/config), with kubectl's flags applied.
 */
export function connect(connection: Connection): { kube: KubeConnection; namespace: string } {
  const { namespace, requestTimeoutMs: _timeout, ...flags } = connection;
  let kube: KubeConnection;
  try {
    kube = loadKubeConnection(flags);
  } catch (error) {
    if (error instanceof KubeConfigError) throw new PluginError(error.message);
    throw error;
  }
  return { kube, namespace: writtenNamespace(namespace ?? kube.namespace) };
}

/** A request bounded by --request-timeout (0: no limit); an abandoned get or patch does no harm. */
function bounded<T>(request: Promise<T>, what: string, ms: number): Promise<T> {
  if (ms === 0) return request;
  return withTimeout(
    request,
    ms,
    () => new PluginError(`${what}: no answer from the API server within ${ms / 1000} s`),
  );
}

export class TaskClient {
  readonly #api: KubeClient;
  readonly #server: string;
  readonly #timeoutMs: number;
  readonly namespace: string;

  constructor(kube: KubeConnection, namespace: string, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.#timeoutMs = requestTimeoutMs;
    this.#api = new KubeClient(kube);
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
      const request = this.#api.getTask(this.namespace, name);
      return (await bounded(request, `get ${name}`, this.#timeoutMs)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }

  /** Every PeriodicTask of the namespace, or of all namespaces, page by page. */
  async list(allNamespaces: boolean): Promise<PeriodicTask[]> {
    const namespace = allNamespaces ? undefined : this.namespace;
    const tasks: PeriodicTask[] = [];
    let continueToken: string | undefined;
    try {
      do {
        const signal = AbortSignal.timeout(this.#timeoutMs > 0 ? this.#timeoutMs : 2 ** 31 - 1);
        const page = (await bounded(
          this.#api.listTasks(namespace, { limit: 500, continueToken, signal }),
          'list periodictasks',
          this.#timeoutMs,
        )) as { items?: PeriodicTask[]; metadata?: { continue?: string } };
        tasks.push(...(page.items ?? []));
        continueToken = page.metadata?.continue || undefined;
      } while (continueToken !== undefined);
    } catch (error) {
      throw this.#explain(error, '');
    }
    return tasks;
  }

  /** A JSON merge patch of the resource. */
  async patch(name: string, body: TaskPatch): Promise<PeriodicTask> {
    try {
      const request = this.#api.patchTask(this.namespace, name, body, FIELD_MANAGER);
      return (await bounded(request, `patch ${name}`, this.#timeoutMs)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }
}

function serverStatus(error: unknown) {
  return error instanceof ApiError ? error.serverStatus : undefined;
}
