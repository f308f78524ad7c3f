// A kubeconfig `exec` credential plugin (cloud CLIs such as `aws eks get-token` or `gke-gcloud-auth-plugin`),
// plugged into the client library as an authenticator because its own exec support lacks what kubectl does:
// KUBERNETES_EXEC_INFO (with the cluster when `provideClusterInfo` asks for it), a fetch shortly before the
// credential expires rather than after, a time limit on the plugin, the apiVersion check, commands relative
// to the kubeconfig's folder, and forgetting a credential the API server refused (401).
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { isPlainObject } from '../api/plain-object.ts';

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

/** The cluster as KUBERNETES_EXEC_INFO describes it. */
export interface ExecClusterInfo {
  server: string;
  caData?: string;
  tlsServerName?: string;
  insecureSkipTlsVerify: boolean;
}

export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** When it must be fetched again; undefined: until the API server refuses it. */
  expiresAt?: number;
}

/** The part of the HTTPS options an authenticator fills in. */
export interface AuthOptions {
  headers?: Record<string, unknown> | unknown;
  cert?: unknown;
  key?: unknown;
}

/** Fetched this long before the expiry the plugin gave, so a request in flight does not carry a dead token. */
const EARLY_MS = 10_000;
const PLUGIN_TIMEOUT_MS = 60_000;

export class ExecAuthenticator {
  readonly #userName: string;
  readonly #plugin: ExecPlugin;
  readonly #cluster: ExecClusterInfo;
  #current: Promise<ExecCredential> | undefined;
  /** Counts the credentials fetched: a new client certificate needs new connections. */
  generation = 0;

  constructor(userName: string, plugin: ExecPlugin, cluster: ExecClusterInfo) {
    this.#userName = userName;
    this.#plugin = plugin;
    this.#cluster = cluster;
  }

  isAuthProvider(user: { name: string }): boolean {
    return user.name === this.#userName;
  }

  async applyAuthentication(_user: unknown, opts: AuthOptions): Promise<void> {
    const credential = await this.credential();
    if (credential.cert !== undefined && credential.key !== undefined) {
      opts.cert = credential.cert;
      opts.key = credential.key;
    }
    if (credential.token !== undefined) {
      const headers = isPlainObject(opts.headers) ? opts.headers : {};
      headers.Authorization = `Bearer ${credential.token}`;
      opts.headers = headers;
    }
  }

  async credential(now = Date.now()): Promise<ExecCredential> {
    const current = await this.#current?.catch(() => undefined);
    if (current && (current.expiresAt === undefined || current.expiresAt - EARLY_MS > now)) return current;
    const running = this.#run();
    this.#current = running;
    this.generation += 1;
    return running;
  }

  /** The API server refused the credential: the next request runs the plugin again. */
  forget(): boolean {
    this.#current = undefined;
    return true;
  }

  #run(): Promise<ExecCredential> {
    const plugin = this.#plugin;
    // A relative path with a slash is relative to the kubeconfig's folder; a bare name is looked up in PATH.
    const command =
      plugin.command.includes('/') && !isAbsolute(plugin.command)
        ? join(plugin.dir, plugin.command)
        : plugin.command;
    const cluster = this.#cluster;
    const info = {
      apiVersion: plugin.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(plugin.provideClusterInfo
          ? {
              cluster: {
                server: cluster.server,
                ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
                ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
                'insecure-skip-tls-verify': cluster.insecureSkipTlsVerify,
              },
            }
          : {}),
      },
    };
    const env = { ...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    return new Promise((resolve, reject) => {
      execFile(
        command,
        plugin.args,
        { env, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) {
            const detail = stderr.trim().split('\n').at(-1) ?? '';
            reject(
              new Error(
                `kubeconfig exec plugin ${plugin.command} failed: ${error.message.split('\n')[0]}${detail ? ` (${detail})` : ''}`,
              ),
            );
            return;
          }
          try {
            resolve(readExecCredential(stdout, plugin.apiVersion));
          } catch (readError) {
            reject(new Error(`kubeconfig exec plugin ${plugin.command}: ${(readError as Error).message}`));
          }
        },
      );
    });
  }
}

/** The ExecCredential a plugin printed: a token, or a client certificate and key; an expiry when it has one. */
export function readExecCredential(output: string, apiVersion: string): ExecCredential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new Error('its output is not an ExecCredential (not JSON)');
  }
  if (!isPlainObject(parsed) || parsed.kind !== 'ExecCredential')
    throw new Error('its output is not an ExecCredential');
  if (parsed.apiVersion !== apiVersion)
    throw new Error(
      `it answered with apiVersion ${String(parsed.apiVersion)}, the kubeconfig asks for ${apiVersion}`,
    );
  const status = isPlainObject(parsed.status) ? parsed.status : {};
  const token = typeof status.token === 'string' && status.token !== '' ? status.token : undefined;
  const cert = typeof status.clientCertificateData === 'string' ? status.clientCertificateData : undefined;
  const key = typeof status.clientKeyData === 'string' ? status.clientKeyData : undefined;
  if (token === undefined && (cert === undefined || key === undefined))
    throw new Error(
      'its ExecCredential has neither status.token nor status.clientCertificateData and clientKeyData',
    );
  const expiry =
    typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : Number.NaN;
  return {
    ...(token !== undefined ? { token } : {}),
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
    ...(Number.isFinite(expiry) ? { expiresAt: expiry } : {}),
  };
}
