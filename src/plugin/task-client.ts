// The plugin's API calls: get and merge-patch one PeriodicTask, as the user of the kubeconfig's context, and
// nothing else, so the user needs only those two verbs. A failure becomes one line in kubectl's words.
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, type PeriodicTask, PLURAL, VERSION } from '../api/types.ts';
import type { TaskPatch } from '../cli/task-edits.ts';
import { describeApiError, httpStatus } from '../kube/api-errors.ts';
import { loadKubeConfig } from '../kube/client.ts';
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
export function connect(connection: Connection): { kc: KubeConfig; namespace: string } {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(connection.kubeconfig);
  } catch (error) {
    throw new PluginError(
      (error as Error).message.replace(/ \(or use --manifests DIR for standalone mode\)$/, ''),
    );
  }
  if (connection.context !== undefined) {
    if (!kc.getContextObject(connection.context))
      throw new PluginError(`context "${connection.context}" is not in the kubeconfig`);
    kc.setCurrentContext(connection.context);
    if (!kc.getCurrentCluster())
      throw new PluginError(`kubeconfig context "${connection.context}" names no cluster`);
  }
  const namespace =
    connection.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  return { kc, namespace };
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
  readonly #api: CustomObjectsApi;
  readonly #server: string;
  readonly namespace: string;

  constructor(kc: KubeConfig, namespace: string) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#server = kc.getCurrentCluster()?.server ?? '';
    this.namespace = namespace;
  }

  /** The API server's words for a failure, with what the user can do about the common ones. */
  #explain(error: unknown, name: string): PluginError {
    if (error instanceof PluginError) return error;
    const status = httpStatus(error);
    const where = `periodictask "${name}" in namespace "${this.namespace}"`;
    if (status === 404) {
      const body = serverStatus(error);
      // A 404 without the object's name is about the resource type: the CRD is not installed.
      if (body?.details?.name === name) return new PluginError(`${where} not found`);
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
      const request = this.#api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: PLURAL,
        name,
      });
      return (await withTimeout(request, `get ${name}`)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }

  /** A JSON merge patch of the resource (client-node's default content type would be a JSON Patch). */
  async patch(name: string, body: TaskPatch): Promise<PeriodicTask> {
    try {
      const request = this.#api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural: PLURAL,
          name,
          body,
          fieldManager: FIELD_MANAGER,
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return (await withTimeout(request, `patch ${name}`)) as PeriodicTask;
    } catch (error) {
      throw this.#explain(error, name);
    }
  }
}

interface ServerStatus {
  message?: string;
  details?: { name?: string };
}

/** The Status object the API server sent with an error, when there is one. */
function serverStatus(error: unknown): ServerStatus | undefined {
  const body = (error as { body?: unknown }).body;
  if (typeof body !== 'string')
    return typeof body === 'object' && body !== null ? (body as ServerStatus) : undefined;
  try {
    return JSON.parse(body) as ServerStatus;
  } catch {
    return undefined;
  }
}
