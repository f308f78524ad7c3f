// Where the API server is and who we are to it: --kubeconfig (or KUBECONFIG, files merged as kubectl merges
// them), else the pod's service account, else ~/.kube/config; a clear error otherwise. The result is plain
// data (server, TLS material, credentials); src/kube/api-client.ts turns it into requests.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { isPlainObject } from '../api/plain-object.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig `exec` credential plugin (client.authentication.k8s.io), run as kubectl runs it. */
export interface ExecPlugin {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
  /** The plugin asked for the cluster's details in KUBERNETES_EXEC_INFO. */
  provideClusterInfo: boolean;
  /** Where relative command paths are looked up: the kubeconfig file's folder. */
  dir: string;
}

export type Credentials =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** Re-read while running: projected service account tokens are rotated in place. */
  | { kind: 'token-file'; path: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'exec'; plugin: ExecPlugin };

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipVerify: boolean;
  serverName?: string;
}

export interface KubeConnection {
  server: string;
  /** The context's namespace (in a pod: the service account's), if it names one. */
  namespace: string | undefined;
  /** The context in use; `in-cluster` for the pod's service account. */
  context: string;
  tls: TlsMaterial;
  credentials: Credentials;
}

type Entry = { value: Record<string, unknown>; dir: string };

/** The named entries of every file, the first file to name one winning, as kubectl merges KUBECONFIG. */
interface MergedConfig {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext: string;
  origin: string;
}

export class KubeConfigError extends Error {}

/** Nothing says where an API server is (the operator's run command adds its standalone alternative). */
export class NoKubeConfigError extends KubeConfigError {}

/**
 * The connection kubectl would use. `context` picks another context of the kubeconfig (the plugin's
 * --context); the pod's service account has only one.
 */
export function loadKubeConfig(path?: string, context?: string): KubeConnection {
  const fromEnv = process.env.KUBECONFIG?.split(delimiter).filter((file) => file !== '') ?? [];
  const home = join(homedir(), '.kube', 'config');
  if (path !== undefined && path !== '') return fromFiles([path], '--kubeconfig', context);
  if (fromEnv.length > 0) return fromFiles(fromEnv, 'KUBECONFIG', context);
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) {
    if (context !== undefined) throw new KubeConfigError(`context "${context}" is not in the kubeconfig`);
    return inCluster();
  }
  if (existsSync(home)) return fromFiles([home], 'the default location', context);
  throw new NoKubeConfigError(
    'no Kubernetes API server configured: pass --kubeconfig or set KUBECONFIG, run in a pod with a ' +
      `service account, or create ${home}`,
  );
}

/** The namespace the operator runs in (its Lease lives there): POD_NAMESPACE, else the context's, else default. */
export function operatorNamespace(connection: KubeConnection): string {
  return process.env.POD_NAMESPACE || connection.namespace || 'default';
}

function inCluster(): KubeConnection {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const namespaceFile = join(SERVICE_ACCOUNT_DIR, 'namespace');
  const caFile = join(SERVICE_ACCOUNT_DIR, 'ca.crt');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
    context: 'in-cluster',
    tls: { ...(existsSync(caFile) ? { ca: readFileSync(caFile) } : {}), insecureSkipVerify: false },
    credentials: { kind: 'token-file', path: join(SERVICE_ACCOUNT_DIR, 'token') },
  };
}

function fromFiles(files: string[], origin: string, context: string | undefined): KubeConnection {
  const merged: MergedConfig = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    currentContext: '',
    origin: `${files.join(delimiter)} (from ${origin})`,
  };
  for (const file of files) {
    if (!existsSync(file)) throw new KubeConfigError(`kubeconfig ${file} (from ${origin}) does not exist`);
    let document: unknown;
    try {
      document = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new KubeConfigError(
        `cannot read kubeconfig ${file} (from ${origin}): ${(error as Error).message}`,
      );
    }
    if (document === null || document === undefined) continue; // an empty file contributes nothing
    if (!isPlainObject(document)) throw new KubeConfigError(`kubeconfig ${file} is not a mapping`);
    const dir = dirname(file);
    for (const [list, member, into] of [
      ['clusters', 'cluster', merged.clusters],
      ['users', 'user', merged.users],
      ['contexts', 'context', merged.contexts],
    ] as const) {
      for (const named of entries(document[list], `${file}: ${list}`)) {
        if (!into.has(named.name))
          into.set(named.name, {
            value:
              member in named.item
                ? record(named.item[member], `${file}: ${list} "${named.name}".${member}`)
                : {},
            dir,
          });
      }
    }
    const current = document['current-context'];
    if (merged.currentContext === '' && typeof current === 'string') merged.currentContext = current;
  }
  return connectionOf(merged, context ?? merged.currentContext);
}

function connectionOf(config: MergedConfig, contextName: string): KubeConnection {
  if (contextName === '') throw new KubeConfigError(`kubeconfig ${config.origin} sets no current-context`);
  const context = config.contexts.get(contextName);
  if (!context) throw new KubeConfigError(`context "${contextName}" is not in the kubeconfig`);
  const clusterName = text(context.value.cluster);
  const cluster = clusterName === undefined ? undefined : config.clusters.get(clusterName);
  if (!cluster) throw new KubeConfigError(`kubeconfig context "${contextName}" names no cluster`);
  const server = text(cluster.value.server);
  if (!server) throw new KubeConfigError(`kubeconfig cluster "${clusterName}" has no server`);
  const userName = text(context.value.user);
  const user = userName === undefined ? undefined : config.users.get(userName);
  if (userName !== undefined && userName !== '' && !user)
    throw new KubeConfigError(
      `kubeconfig context "${contextName}" names user "${userName}", which is not defined`,
    );
  const where = `kubeconfig user "${userName ?? ''}"`;
  const userFields = user?.value ?? {};
  const userDir = user?.dir ?? cluster.dir;
  const tls: TlsMaterial = {
    insecureSkipVerify: cluster.value['insecure-skip-tls-verify'] === true,
    ...optional(
      'ca',
      material(cluster.value, 'certificate-authority', cluster.dir, `kubeconfig cluster "${clusterName}"`),
    ),
    ...optional('cert', material(userFields, 'client-certificate', userDir, where)),
    ...optional('key', material(userFields, 'client-key', userDir, where)),
    ...optional('serverName', text(cluster.value['tls-server-name'])),
  };
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new KubeConfigError(
      `${where} has a client certificate without its key, or a key without its certificate`,
    );
  if (cluster.value['proxy-url'] !== undefined)
    throw new KubeConfigError(`kubeconfig cluster "${clusterName}" sets proxy-url, which is not supported`);
  return {
    server: server.replace(/\/+$/, ''),
    namespace: text(context.value.namespace) || undefined,
    context: contextName,
    tls,
    credentials: credentialsOf(userFields, userDir, where),
  };
}

function credentialsOf(user: Record<string, unknown>, dir: string, where: string): Credentials {
  if (user['auth-provider'] !== undefined) {
    const name = isPlainObject(user['auth-provider']) ? text(user['auth-provider'].name) : undefined;
    throw new KubeConfigError(
      `${where} uses auth-provider "${name ?? '?'}", which is not supported: use an exec credential plugin`,
    );
  }
  if (user.exec !== undefined)
    return { kind: 'exec', plugin: execPlugin(record(user.exec, `${where}.exec`), dir, where) };
  const token = text(user.token);
  if (token) return { kind: 'token', token };
  const tokenFile = text(user.tokenFile);
  if (tokenFile) return { kind: 'token-file', path: resolvePath(tokenFile, dir) };
  const username = text(user.username);
  if (username) return { kind: 'basic', username, password: text(user.password) ?? '' };
  return { kind: 'none' };
}

function execPlugin(exec: Record<string, unknown>, dir: string, where: string): ExecPlugin {
  const command = text(exec.command);
  if (!command) throw new KubeConfigError(`${where}.exec has no command`);
  const apiVersion = text(exec.apiVersion) ?? '';
  if (!/^client\.authentication\.k8s\.io\/v1(beta1)?$/.test(apiVersion))
    throw new KubeConfigError(
      `${where}.exec.apiVersion "${apiVersion}" is not client.authentication.k8s.io/v1 or v1beta1`,
    );
  const args = Array.isArray(exec.args) ? exec.args.map(String) : [];
  const env: Record<string, string> = {};
  for (const item of Array.isArray(exec.env) ? exec.env : []) {
    if (isPlainObject(item) && typeof item.name === 'string') env[item.name] = String(item.value ?? '');
  }
  return { command, args, env, apiVersion, provideClusterInfo: exec.provideClusterInfo === true, dir };
}

/** `<name>-data` (base64) or `<name>` (a file, relative to the kubeconfig's folder). */
function material(
  fields: Record<string, unknown>,
  name: string,
  dir: string,
  where: string,
): Buffer | undefined {
  const data = text(fields[`${name}-data`]);
  if (data) return Buffer.from(data, 'base64');
  const file = text(fields[name]);
  if (!file) return undefined;
  const path = resolvePath(file, dir);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KubeConfigError(`${where}: cannot read ${name} ${path}: ${(error as Error).message}`);
  }
}

function entries(list: unknown, where: string): Array<{ name: string; item: Record<string, unknown> }> {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeConfigError(`${where} is not a list`);
  return list.map((item, index) => {
    const entry = record(item, `${where}[${index}]`);
    const name = text(entry.name);
    if (name === undefined) throw new KubeConfigError(`${where}[${index}] has no name`);
    return { name, item: entry };
  });
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new KubeConfigError(`${where} is not a mapping`);
  return value;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function resolvePath(path: string, dir: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}
