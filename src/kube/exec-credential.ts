// A kubeconfig `exec` credential plugin (cloud CLIs such as `aws eks get-token` or
// `gke-gcloud-auth-plugin`): run without a terminal, its ExecCredential read from stdout and kept until it
// expires, as kubectl does. A 401 forgets it, so the next request runs the plugin again.
import { execFile } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { isPlainObject } from '../api/plain-object.ts';
import type { ExecPlugin, TlsMaterial } from './kubeconfig.ts';

export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** When it must be fetched again; undefined: until the API server refuses it. */
  expiresAt?: number;
}

/** Fetched this long before the expiry the plugin gave, so a request in flight does not carry a dead token. */
const EARLY_MS = 10_000;
const PLUGIN_TIMEOUT_MS = 60_000;

export class ExecCredentialSource {
  readonly #plugin: ExecPlugin;
  readonly #cluster: { server: string; tls: TlsMaterial };
  #current: Promise<ExecCredential> | undefined;

  constructor(plugin: ExecPlugin, cluster: { server: string; tls: TlsMaterial }) {
    this.#plugin = plugin;
    this.#cluster = cluster;
  }

  async credential(now = Date.now()): Promise<ExecCredential> {
    const current = await this.#current?.catch(() => undefined);
    if (current && (current.expiresAt === undefined || current.expiresAt - EARLY_MS > now)) return current;
    const running = this.#run();
    this.#current = running;
    return running;
  }

  /** The API server refused the credential: the next request runs the plugin again. */
  forget(): void {
    this.#current = undefined;
  }

  #run(): Promise<ExecCredential> {
    const plugin = this.#plugin;
    // A relative path with a slash is relative to the kubeconfig's folder; a bare name is looked up in PATH.
    const command =
      plugin.command.includes('/') && !isAbsolute(plugin.command)
        ? join(plugin.dir, plugin.command)
        : plugin.command;
    const info = {
      apiVersion: plugin.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(plugin.provideClusterInfo
          ? {
              cluster: {
                server: this.#cluster.server,
                ...(this.#cluster.tls.ca
                  ? { 'certificate-authority-data': this.#cluster.tls.ca.toString('base64') }
                  : {}),
                ...(this.#cluster.tls.serverName ? { 'tls-server-name': this.#cluster.tls.serverName } : {}),
                'insecure-skip-tls-verify': this.#cluster.tls.insecureSkipVerify,
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
    ...(cert !== undefined && key !== undefined ? { cert: Buffer.from(cert), key: Buffer.from(key) } : {}),
    ...(Number.isFinite(expiry) ? { expiresAt: expiry } : {}),
  };
}
