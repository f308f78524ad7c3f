// The operator's and the plugin's client of the API server: @kubernetes/client-node's generated APIs and
// Watch over the KubeConfig of src/kube/kube-connection.ts. Its failures become ApiError (src/kube/api-errors.ts)
// so that callers judge them by HTTP status and Status message; a 401 makes the credential be fetched again
// (an exec plugin run, a token file read) and the call is tried once more.
import {
  ApiException,
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  Observable,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  setHeaderOptions,
  type V1Lease,
  V1MicroTime,
  type V1ObjectMeta,
  Watch,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, POLICY_PLURAL, VERSION } from '../api/types.ts';
import { ApiError, httpStatus } from './api-errors.ts';
import type {
  EventCalls,
  EventRecord,
  Lease,
  LeaseCalls,
  LeaseSpec,
  PolicyCalls,
  SecretCalls,
  TaskCalls,
  TaskEditCalls,
  WatchQuery,
} from './kube-calls.ts';
import type { KubeConnection } from './kube-connection.ts';
import { microTime } from './micro-time.ts';
import { taskPath } from './resource-paths.ts';

/**
 * The library's Watch aborts a watch that received nothing for 30 s; a quiet watch gets a bookmark only about
 * once a minute, so the informer's own watchdog decides instead (the longest timer Node.js keeps).
 */
const WATCH_INACTIVITY_LIMIT_MS = 2 ** 31 - 1;

export class KubeClient
  implements TaskCalls, TaskEditCalls, LeaseCalls, EventCalls, PolicyCalls, SecretCalls
{
  readonly server: string;
  readonly #connection: KubeConnection;
  readonly #objects: CustomObjectsApi;
  readonly #leases: CoordinationV1Api;
  readonly #events: EventsV1Api;
  readonly #core: CoreV1Api;

  constructor(connection: KubeConnection) {
    this.#connection = connection;
    this.server = connection.server;
    this.#objects = connection.config.makeApiClient(CustomObjectsApi);
    this.#leases = connection.config.makeApiClient(CoordinationV1Api);
    this.#events = connection.config.makeApiClient(EventsV1Api);
    this.#core = connection.config.makeApiClient(CoreV1Api);
  }

  listPolicies(page: { limit: number; continueToken: string | undefined }): Promise<unknown> {
    return this.#call(`list /apis/${GROUP}/${VERSION}/${POLICY_PLURAL}`, (options) =>
      this.#objects.listClusterCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: POLICY_PLURAL,
          limit: page.limit,
          _continue: page.continueToken,
        },
        options,
      ),
    );
  }

  listNamespaces(page: { limit: number; continueToken: string | undefined }): Promise<unknown> {
    return this.#call('list /api/v1/namespaces', (options) =>
      this.#core.listNamespace({ limit: page.limit, _continue: page.continueToken }, options),
    );
  }

  readSecret(namespace: string, name: string): Promise<unknown> {
    return this.#call(`get /api/v1/namespaces/${namespace}/secrets/${name}`, (options) =>
      this.#core.readNamespacedSecret({ name, namespace }, options),
    );
  }

  listTasks(
    namespace: string | undefined,
    page: { limit: number; continueToken: string | undefined; signal: AbortSignal },
  ): Promise<unknown> {
    const query = { group: GROUP, version: VERSION, limit: page.limit, _continue: page.continueToken };
    return this.#call(
      `list ${taskPath(namespace)}`,
      (options) =>
        namespace === undefined
          ? this.#objects.listCustomObjectForAllNamespaces({ ...query, resourcePlural: PLURAL }, options)
          : this.#objects.listNamespacedCustomObject({ ...query, namespace, plural: PLURAL }, options),
      page.signal,
    );
  }

  async watchTasks(
    namespace: string | undefined,
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error?: unknown) => void,
  ): Promise<AbortController> {
    const path = taskPath(namespace);
    const watch = new Watch(this.#connection.config);
    if (!Reflect.has(watch, 'requestTimeoutMs'))
      throw new Error(
        'the Kubernetes client Watch has no requestTimeoutMs: its inactivity limit cannot be lifted',
      );
    Reflect.set(watch, 'requestTimeoutMs', WATCH_INACTIVITY_LIMIT_MS);
    return watch.watch(
      path,
      { ...query },
      (type: string, object: unknown) => onEvent(type, object),
      (error: unknown) => {
        if (!error) return onDone();
        const converted = toApiError(`watch ${path}`, error);
        // A refused credential is fetched again before the informer's next attempt.
        if (httpStatus(converted) === 401) this.#connection.forgetCredentials();
        onDone(converted);
      },
    );
  }

  patchTaskStatus(namespace: string, name: string, status: unknown, fieldManager: string): Promise<unknown> {
    return this.#call(`patch ${taskPath(namespace, name, 'status')}`, (options) =>
      this.#objects.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status }, fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
      ),
    );
  }

  getTask(namespace: string, name: string): Promise<unknown> {
    return this.#call(`get ${taskPath(namespace, name)}`, (options) =>
      this.#objects.getNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name },
        options,
      ),
    );
  }

  patchTask(namespace: string, name: string, patch: unknown, fieldManager: string): Promise<unknown> {
    return this.#call(`patch ${taskPath(namespace, name)}`, (options) =>
      this.#objects.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: patch, fieldManager },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch, options),
      ),
    );
  }

  async readLease(namespace: string, name: string): Promise<Lease> {
    const lease = await this.#call(`get lease ${namespace}/${name}`, (options) =>
      this.#leases.readNamespacedLease({ name, namespace }, options),
    );
    return fromV1Lease(lease);
  }

  async createLease(namespace: string, lease: Lease): Promise<Lease> {
    const created = await this.#call(`create lease in ${namespace}`, (options) =>
      this.#leases.createNamespacedLease({ namespace, body: toV1Lease(lease) }, options),
    );
    return fromV1Lease(created);
  }

  async replaceLease(namespace: string, name: string, lease: Lease): Promise<Lease> {
    const replaced = await this.#call(`replace lease ${namespace}/${name}`, (options) =>
      this.#leases.replaceNamespacedLease({ name, namespace, body: toV1Lease(lease) }, options),
    );
    return fromV1Lease(replaced);
  }

  async createEvent(namespace: string, event: EventRecord): Promise<void> {
    await this.#call(`create event in ${namespace}`, (options) =>
      this.#events.createNamespacedEvent(
        {
          namespace,
          body: {
            apiVersion: 'events.k8s.io/v1',
            kind: 'Event',
            ...event,
            eventTime: new V1MicroTime(event.eventTime.getTime()),
          },
        },
        options,
      ),
    );
  }

  /** One call, with the caller's abort signal; a 401 fetches the credential again and retries once. */
  async #call<T>(
    what: string,
    send: (options: ConfigurationOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      try {
        return await send(this.#options(signal));
      } catch (error) {
        throw toApiError(what, error);
      }
    };
    try {
      return await attempt();
    } catch (error) {
      if (httpStatus(error) === 401 && this.#connection.forgetCredentials()) return attempt();
      throw error;
    }
  }

  #options(signal: AbortSignal | undefined): ConfigurationOptions {
    if (signal === undefined) return {};
    return {
      middleware: [
        {
          pre: (context: RequestContext) => {
            context.setSignal(signal);
            return new Observable(Promise.resolve(context));
          },
          post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }
}

/** The library's failure as ApiError (HTTP status and the server's Status); network failures stay as they are. */
function toApiError(what: string, error: unknown): unknown {
  if (error instanceof ApiException) return new ApiError(what, error.code, error.body);
  // The Watch reports a refused request as an Error with its status code and no body.
  const statusCode: unknown = error instanceof Error ? Reflect.get(error, 'statusCode') : undefined;
  if (typeof statusCode === 'number') return new ApiError(what, statusCode, '');
  return error;
}

/** Lease times travel as MicroTime text in this project and as V1MicroTime in the library. */
function toV1Lease(lease: Lease): V1Lease {
  const spec = lease.spec;
  const time = (text: string | undefined) =>
    text === undefined ? undefined : new V1MicroTime(Date.parse(text));
  return {
    apiVersion: lease.apiVersion ?? 'coordination.k8s.io/v1',
    kind: lease.kind ?? 'Lease',
    metadata: lease.metadata as V1ObjectMeta,
    ...(spec
      ? {
          spec: {
            ...spec,
            acquireTime: time(spec.acquireTime),
            renewTime: time(spec.renewTime),
          },
        }
      : {}),
  };
}

function fromV1Lease(lease: V1Lease): Lease {
  const spec = lease.spec;
  const text = (value: unknown): string | undefined =>
    value instanceof Date ? microTime(value) : typeof value === 'string' ? value : undefined;
  const record: LeaseSpec | undefined = spec
    ? {
        ...(spec.holderIdentity !== undefined ? { holderIdentity: spec.holderIdentity } : {}),
        ...(spec.leaseDurationSeconds !== undefined
          ? { leaseDurationSeconds: spec.leaseDurationSeconds }
          : {}),
        ...(text(spec.acquireTime) !== undefined ? { acquireTime: text(spec.acquireTime)! } : {}),
        ...(text(spec.renewTime) !== undefined ? { renewTime: text(spec.renewTime)! } : {}),
        ...(spec.leaseTransitions !== undefined ? { leaseTransitions: spec.leaseTransitions } : {}),
      }
    : undefined;
  return {
    ...(lease.apiVersion ? { apiVersion: lease.apiVersion } : {}),
    ...(lease.kind ? { kind: lease.kind } : {}),
    metadata: { ...(lease.metadata ?? {}) },
    ...(record ? { spec: record } : {}),
  };
}
