// The calls the operator and the plugin make to the API server, as interfaces: the informer, the status
// writer, the event recorder, the Lease elector and the plugin each depend on the few they use, not on the
// client library behind them (src/kube/kube-client.ts), which is loaded only where a cluster is used.

/** Query of one watch request of PeriodicTasks. */
export interface WatchQuery {
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number;
}

export interface TaskCalls {
  /** One page of the PeriodicTasks of a namespace, or of all when `namespace` is undefined: the raw list. */
  listTasks(
    namespace: string | undefined,
    page: { limit: number; continueToken: string | undefined; signal: AbortSignal },
  ): Promise<unknown>;
  /**
   * Starts a watch. `onEvent` gets each event's type and object; `onDone` is called exactly once, with the
   * error (an HTTP failure is an ApiError) or nothing when the server ended the watch. Resolves once the
   * response has started (or failed), with the controller that ends the watch.
   */
  watchTasks(
    namespace: string | undefined,
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error?: unknown) => void,
  ): Promise<AbortController>;
  /** A merge patch of the status subresource as `fieldManager`; the object the API server answers with. */
  patchTaskStatus(namespace: string, name: string, status: unknown, fieldManager: string): Promise<unknown>;
}

/** The policy reader's calls: one page of the cluster's PeriodicTaskPolicies or Namespaces, raw. */
export interface PolicyCalls {
  listPolicies(page: { limit: number; continueToken: string | undefined }): Promise<unknown>;
  listNamespaces(page: { limit: number; continueToken: string | undefined }): Promise<unknown>;
}

/** The broker Secrets' reader: one Secret of a namespace (the operator's own), raw. */
export interface SecretCalls {
  readSecret(namespace: string, name: string): Promise<unknown>;
}

/** The plugin's two calls: read one PeriodicTask, merge-patch it. */
export interface TaskEditCalls {
  getTask(namespace: string, name: string): Promise<unknown>;
  patchTask(namespace: string, name: string, patch: unknown, fieldManager: string): Promise<unknown>;
}

/** coordination.k8s.io/v1 LeaseSpec, the members leader election reads and writes (times are MicroTime text). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A Lease as the API server returns it; written back whole (a replace carries its resourceVersion). */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; resourceVersion?: string; [member: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaseCalls {
  readLease(namespace: string, name: string): Promise<Lease>;
  createLease(namespace: string, lease: Lease): Promise<Lease>;
  replaceLease(namespace: string, name: string, lease: Lease): Promise<Lease>;
}

/** An events.k8s.io/v1 Event, as the event recorder writes it. */
export interface EventRecord {
  metadata: { name: string; namespace: string };
  eventTime: Date;
  type: string;
  reason: string;
  action: string;
  note: string;
  reportingController: string;
  reportingInstance: string;
  regarding: {
    apiVersion: string;
    kind: string;
    namespace: string;
    name: string;
    uid?: string | undefined;
    resourceVersion?: string | undefined;
  };
}

export interface EventCalls {
  createEvent(namespace: string, event: EventRecord): Promise<void>;
}
