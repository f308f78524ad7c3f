// Where the API server is and who we are to it, as kubectl decides it, loaded by the client library's
// KubeConfig: --kubeconfig, else KUBECONFIG (files merged as kubectl merges them: the first to name an entry
// wins), else the pod's service account, else ~/.kube/config; a clear error otherwise. kubectl's connection
// flags override the kubeconfig as kubectl's do. On top of the library: the merge (the library refuses a
// name defined twice), `tokenFile` (it reads another key), `as-groups` and `as-uid` (it sends only
// Impersonate-User), HTTPS_PROXY/NO_PROXY, the exec plugin and token-file authenticators, and kept-alive
// connections (it builds a new connection pool for every request).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import {
  type Cluster,
  type Context,
  KubeConfig,
  type RequestContext,
  type User,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { isPlainObject } from '../api/plain-object.ts';
import { writtenNamespace } from '../api/types.ts';
import { ExecAuthenticator, type ExecPlugin } from './exec-authenticator.ts';
import { proxyFromEnvironment } from './proxy-from-environment.ts';
import { TokenFileAuthenticator } from './token-file-authenticator.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Client certificate files are read again this often (a rotated certificate needs new connections). */
const CERT_RELOAD_MS = 5 * 60_000;

/** kubectl's connection flags; unset means the kubeconfig's choice. */
export interface ConnectionOptions {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  server?: string;
  token?: string;
  /** --as */
  impersonate?: string;
  /** --as-group */
  impersonateGroups?: string[];
  insecureSkipTlsVerify?: boolean;
}

export interface KubeConnection {
  config: KubeConfig;
  server: string;
  /** The context's namespace (in a pod: the service account's), if it names one. */
  namespace: string | undefined;
  /** The context in use; `in-cluster` for the pod's service account. */
  context: string;
  /** Forgets a credential that can be fetched again (after a 401); false when there is nothing new to fetch. */
  forgetCredentials(): boolean;
}

export class KubeConfigError extends Error {}

/** Nothing says where an API server is (the operator's run command adds its standalone alternative). */
export class NoKubeConfigError extends KubeConfigError {}

/** What the library's loader drops from a user entry. */
interface UserExtras {
  tokenFile?: string;
  groups: string[];
  uid?: string;
  /** The kubeconfig file's folder (relative exec commands). */
  dir: string;
}

interface Loaded {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
  extras: Map<string, UserExtras>;
  origin: string;
}

type Authenticator = ExecAuthenticator | TokenFileAuthenticator;

/** The connection kubectl would use with these flags. `serviceAccountPrefix` is prepended to the service account's folder. */
export function loadKubeConnection(
  options: ConnectionOptions = {},
  serviceAccountPrefix = '',
): KubeConnection {
  return connectionOf(loadConfigs(options, serviceAccountPrefix), options);
}

/** The namespace the operator runs in (its Lease lives there): POD_NAMESPACE, else the context's, else default. */
export function operatorNamespace(connection: KubeConnection): string {
  return writtenNamespace(process.env.POD_NAMESPACE || connection.namespace);
}

function loadConfigs(options: ConnectionOptions, serviceAccountPrefix: string): Loaded {
  const fromEnv = process.env.KUBECONFIG?.split(delimiter).filter((file) => file !== '') ?? [];
  const home = join(homedir(), '.kube', 'config');
  if (options.kubeconfig !== undefined && options.kubeconfig !== '')
    return fromFiles([options.kubeconfig], '--kubeconfig');
  if (fromEnv.length > 0) return fromFiles(fromEnv, 'KUBECONFIG');
  const tokenPath = `${serviceAccountPrefix}${SERVICE_ACCOUNT_DIR}/token`;
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(tokenPath)) {
    if (options.context !== undefined)
      throw new KubeConfigError(`context "${options.context}" is not in the kubeconfig`);
    return inCluster(serviceAccountPrefix);
  }
  if (existsSync(home)) return fromFiles([home], 'the default location');
  if (options.server !== undefined) return serverOnly(options.server);
  throw new NoKubeConfigError(
    'no Kubernetes API server configured: pass --kubeconfig or set KUBECONFIG, run in a pod with a ' +
      `service account, or create ${home}`,
  );
}

function inCluster(prefix: string): Loaded {
  const config = new KubeConfig();
  config.loadFromCluster(prefix);
  const user = config.getUsers()[0]!;
  const tokenFile = user.authProvider?.config?.tokenFile as string | undefined;
  const context = config.getContexts()[0]!;
  return {
    clusters: config.getClusters(),
    // The library's own token-file authenticator is replaced by the one that forgets a refused token.
    users: [{ name: user.name }],
    contexts: [{ ...context, name: 'in-cluster', namespace: context.namespace?.trim() || undefined }],
    currentContext: 'in-cluster',
    extras: new Map([[user.name, { ...(tokenFile ? { tokenFile } : {}), groups: [], dir: '/' }]]),
    origin: 'the pod service account',
  };
}

/** kubectl --server without any kubeconfig: that server, anonymous unless --token says otherwise. */
function serverOnly(server: string): Loaded {
  return {
    clusters: [{ name: 'flags', server, skipTLSVerify: false }],
    users: [{ name: 'flags' }],
    contexts: [{ name: 'flags', cluster: 'flags', user: 'flags' }],
    currentContext: 'flags',
    extras: new Map(),
    origin: '--server',
  };
}

function fromFiles(files: string[], origin: string): Loaded {
  const merged: Loaded = {
    clusters: [],
    users: [],
    contexts: [],
    currentContext: '',
    extras: new Map(),
    origin: `${files.join(delimiter)} (from ${origin})`,
  };
  for (const file of files) {
    if (!existsSync(file)) throw new KubeConfigError(`kubeconfig ${file} (from ${origin}) does not exist`);
    const text = readFileSync(file, 'utf8');
    const config = new KubeConfig();
    let document: unknown;
    try {
      document = parse(text);
      if (document === null || document === undefined) continue; // an empty file contributes nothing
      if (!isPlainObject(document)) throw new Error('not a mapping');
      config.loadFromString(text);
    } catch (error) {
      throw new KubeConfigError(
        `cannot read kubeconfig ${file} (from ${origin}): ${(error as Error).message}`,
      );
    }
    const dir = dirname(file);
    config.makePathsAbsolute(dir);
    const named = <T extends { name: string }>(into: T[], items: T[]) => {
      for (const item of items) if (!into.some((known) => known.name === item.name)) into.push(item);
    };
    named(merged.clusters, config.getClusters());
    for (const user of config.getUsers()) {
      if (merged.users.some((known) => known.name === user.name)) continue;
      merged.users.push(user);
      merged.extras.set(user.name, userExtras(document, user.name, dir));
    }
    named(merged.contexts, config.getContexts());
    if (merged.currentContext === '') merged.currentContext = config.getCurrentContext() ?? '';
  }
  return merged;
}

function userExtras(document: Record<string, unknown>, name: string, dir: string): UserExtras {
  const entry = (Array.isArray(document.users) ? document.users : []).find(
    (item: unknown) => isPlainObject(item) && item.name === name,
  ) as { user?: unknown } | undefined;
  const user = isPlainObject(entry?.user) ? entry.user : {};
  const tokenFile = typeof user.tokenFile === 'string' && user.tokenFile !== '' ? user.tokenFile : undefined;
  const where = `kubeconfig user "${name}"`;
  const groups = user['as-groups'] ?? [];
  if (!Array.isArray(groups) || groups.some((group) => typeof group !== 'string'))
    throw new KubeConfigError(`${where}: as-groups is not a list of names`);
  if (isPlainObject(user['as-user-extra']) && Object.keys(user['as-user-extra']).length > 0)
    throw new KubeConfigError(`${where} sets as-user-extra, which is not supported`);
  return {
    ...(tokenFile ? { tokenFile: isAbsolute(tokenFile) ? tokenFile : join(dir, tokenFile) } : {}),
    groups: groups as string[],
    ...(typeof user['as-uid'] === 'string' && user['as-uid'] !== '' ? { uid: user['as-uid'] } : {}),
    dir,
  };
}

function connectionOf(loaded: Loaded, options: ConnectionOptions): KubeConnection {
  const contextName = options.context ?? loaded.currentContext;
  if (contextName === '') throw new KubeConfigError(`kubeconfig ${loaded.origin} sets no current-context`);
  const context = loaded.contexts.find((item) => item.name === contextName);
  if (!context) throw new KubeConfigError(`context "${contextName}" is not in the kubeconfig`);
  const clusterName = options.cluster ?? context.cluster;
  const cluster = loaded.clusters.find((item) => item.name === clusterName);
  if (!cluster)
    throw new KubeConfigError(
      options.cluster !== undefined
        ? `cluster "${clusterName}" is not in the kubeconfig`
        : `kubeconfig context "${contextName}" names no cluster`,
    );
  const userName = options.user ?? context.user;
  const user =
    userName === undefined || userName === '' ? undefined : loaded.users.find((u) => u.name === userName);
  if (userName !== undefined && userName !== '' && !user)
    throw new KubeConfigError(
      options.user !== undefined
        ? `user "${userName}" is not in the kubeconfig`
        : `kubeconfig context "${contextName}" names user "${userName}", which is not defined`,
    );
  const server = (options.server ?? cluster.server).replace(/\/+$/, '');
  const proxyUrl = cluster.proxyUrl || proxyFromEnvironment(server);
  const finalCluster: Cluster = {
    ...cluster,
    server,
    ...(proxyUrl ? { proxyUrl } : {}),
    // kubectl drops the CA when told to skip verification.
    ...(options.insecureSkipTlsVerify ? { skipTLSVerify: true, caData: undefined, caFile: undefined } : {}),
  };
  const extras = loaded.extras.get(userName ?? '') ?? { groups: [], dir: '/' };
  const { user: finalUser, authenticator } = credentialsOf(
    user,
    userName ?? '',
    extras,
    options,
    finalCluster,
  );
  const groups = options.impersonateGroups?.length ? options.impersonateGroups : extras.groups;
  const impersonate = options.impersonate ?? finalUser.impersonateUser ?? undefined;
  if (groups.length > 0 && !impersonate)
    throw new KubeConfigError('impersonating a group needs a user to impersonate as well (--as or as:)');
  if (groups.length > 1)
    throw new KubeConfigError(
      `impersonating more than one group (${groups.join(', ')}) is not supported: the client sends one Impersonate-Group header`,
    );
  const headers: Record<string, string> = {};
  if (groups[0] !== undefined) headers['Impersonate-Group'] = groups[0];
  if (extras.uid !== undefined && options.impersonate === undefined) headers['Impersonate-Uid'] = extras.uid;
  const config = new ConnectionConfig(headers, authenticator);
  config.loadFromOptions({
    clusters: [finalCluster],
    users: [{ ...finalUser, ...(impersonate ? { impersonateUser: impersonate } : {}) }],
    contexts: [{ ...context, cluster: finalCluster.name, user: finalUser.name }],
    currentContext: contextName,
  });
  if (authenticator) config.addAuthenticator(authenticator);
  return {
    config,
    server: finalCluster.server,
    namespace: context.namespace || undefined,
    context: contextName,
    forgetCredentials: () => authenticator?.forget() ?? false,
  };
}

/** The user entry for the library, and the authenticator of this project that replaces its own. */
function credentialsOf(
  user: User | undefined,
  name: string,
  extras: UserExtras,
  options: ConnectionOptions,
  cluster: Cluster,
): { user: User; authenticator: Authenticator | undefined } {
  const base: User = user ?? { name };
  if (options.token !== undefined)
    return {
      user: { ...base, token: options.token, exec: undefined, authProvider: undefined },
      authenticator: undefined,
    };
  // As client-go: a token file wins over a token, and is read again while running.
  if (extras.tokenFile !== undefined)
    return {
      user: { ...base, token: undefined, authProvider: undefined },
      authenticator: new TokenFileAuthenticator(name, extras.tokenFile),
    };
  if (base.exec) {
    const plugin = execPlugin(base.exec, extras.dir, `kubeconfig user "${name}"`);
    return {
      user: { ...base, exec: undefined },
      authenticator: new ExecAuthenticator(name, plugin, {
        server: cluster.server,
        ...(cluster.caData ? { caData: cluster.caData } : {}),
        ...(cluster.caFile ? { caData: readFileSync(cluster.caFile).toString('base64') } : {}),
        ...(cluster.tlsServerName ? { tlsServerName: cluster.tlsServerName } : {}),
        insecureSkipTlsVerify: cluster.skipTLSVerify,
      }),
    };
  }
  return { user: base, authenticator: undefined };
}

function execPlugin(exec: unknown, dir: string, where: string): ExecPlugin {
  const fields = isPlainObject(exec) ? exec : {};
  const command = typeof fields.command === 'string' ? fields.command : '';
  if (!command) throw new KubeConfigError(`${where}.exec has no command`);
  const apiVersion = typeof fields.apiVersion === 'string' ? fields.apiVersion : '';
  if (!/^client\.authentication\.k8s\.io\/v1(beta1)?$/.test(apiVersion))
    throw new KubeConfigError(
      `${where}.exec.apiVersion "${apiVersion}" is not client.authentication.k8s.io/v1 or v1beta1`,
    );
  const args = Array.isArray(fields.args) ? fields.args.map(String) : [];
  const env: Record<string, string> = {};
  for (const item of Array.isArray(fields.env) ? fields.env : []) {
    if (isPlainObject(item) && typeof item.name === 'string') env[item.name] = String(item.value ?? '');
  }
  return { command, args, env, apiVersion, provideClusterInfo: fields.provideClusterInfo === true, dir };
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** The library's KubeConfig with the impersonation headers it lacks and one connection pool per identity. */
class ConnectionConfig extends KubeConfig {
  readonly #headers: Record<string, string>;
  readonly #authenticator: Authenticator | undefined;
  #pool: { key: string; dispatcher: Dispatcher } | undefined;

  constructor(headers: Record<string, string>, authenticator: Authenticator | undefined) {
    super();
    this.#headers = headers;
    this.#authenticator = authenticator;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    for (const [name, value] of Object.entries(this.#headers)) context.setHeaderParam(name, value);
    const fresh = context.getDispatcher();
    if (fresh === undefined) return;
    // The library builds a new pool (so a new TLS connection) per request; one is kept instead until the
    // client certificate may have changed: a new exec credential, or the certificate files read again.
    const generation = this.#authenticator instanceof ExecAuthenticator ? this.#authenticator.generation : 0;
    const key = `${Math.floor(Date.now() / CERT_RELOAD_MS)}/${generation}`;
    if (this.#pool?.key === key) {
      context.setDispatcher(this.#pool.dispatcher);
      fresh.close().catch(() => undefined);
      return;
    }
    this.#pool?.dispatcher.close().catch(() => undefined);
    this.#pool = { key, dispatcher: fresh };
  }
}
