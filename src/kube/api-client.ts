// The operator's and the plugin's HTTP client of the API server: JSON requests and watch streams over
// node:http(s), with the kubeconfig's TLS material and credentials, on kept-alive connections. It knows
// paths, not resources: the informer, the status writer, the event recorder, the lease elector and the
// plugin each build the few paths they use. (A generated client of every API group would cost the process
// tens of MB of resident code for the five calls made here.)
import { readFile } from 'node:fs/promises';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import { ApiError } from './api-errors.ts';
import { type ExecCredential, ExecCredentialSource } from './exec-credential.ts';
import type { KubeConnection } from './kubeconfig.ts';

// As in src/observe/http-server.ts: the ES module faces of node:http(s) would load the bundled fetch.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json; a merge patch says application/merge-patch+json. */
  contentType?: string;
  /** Aborts the request (and its answer) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A service account token file is re-read this often: the kubelet rotates projected tokens in place. */
const TOKEN_FILE_TTL_MS = 60_000;

interface Identity {
  authorization: string | undefined;
  cert?: Buffer;
  key?: Buffer;
}

export class KubeApi {
  readonly server: string;
  readonly #connection: KubeConnection;
  readonly #exec: ExecCredentialSource | undefined;
  #tokenFile: { token: string; readAt: number } | undefined;
  /** One agent per client certificate (an exec plugin may hand out a new one). */
  #agent: { cert: Buffer | undefined; agent: HttpAgent } | undefined;

  constructor(connection: KubeConnection) {
    this.#connection = connection;
    this.server = connection.server;
    this.#exec =
      connection.credentials.kind === 'exec'
        ? new ExecCredentialSource(connection.credentials.plugin, connection)
        : undefined;
  }

  /** One JSON request; the parsed answer, or ApiError with the API server's Status. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<unknown> {
    const send = async (): Promise<unknown> => {
      const response = await this.open(method, path, options);
      const body = await readBody(response);
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) throw new ApiError(`${method} ${path}`, status, body);
      return body === '' ? undefined : (JSON.parse(body) as unknown);
    };
    try {
      return await send();
    } catch (error) {
      // A rotated token or an expired plugin credential: read it again once before giving up.
      if (error instanceof ApiError && error.statusCode === 401 && this.#forgetCredentials()) return send();
      throw error;
    }
  }

  /**
   * Starts a request and resolves with its response as soon as the headers arrive (a watch reads the body
   * as a stream). The caller must consume or destroy the response.
   */
  async open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const identity = await this.#identity();
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (identity.authorization) headers.Authorization = identity.authorization;
    if (payload !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined];
    const present = signals.filter((s): s is AbortSignal => s !== undefined);
    const signal = present.length > 1 ? AbortSignal.any(present) : present[0];
    const secure = url.protocol === 'https:';
    const send = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        { method, headers, agent: this.#agentFor(secure, identity), ...(signal ? { signal } : {}) },
        resolve,
      );
      request.on('error', (error) =>
        reject(new Error(`${method} ${url.pathname} at ${this.server}: ${error.message}`, { cause: error })),
      );
      request.end(payload);
    });
  }

  async #identity(): Promise<Identity> {
    const credentials = this.#connection.credentials;
    switch (credentials.kind) {
      case 'none':
        return { authorization: undefined };
      case 'token':
        return { authorization: `Bearer ${credentials.token}` };
      case 'basic':
        return {
          authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
        };
      case 'token-file': {
        const now = Date.now();
        if (!this.#tokenFile || now - this.#tokenFile.readAt > TOKEN_FILE_TTL_MS) {
          const token = (await readFile(credentials.path, 'utf8')).trim();
          this.#tokenFile = { token, readAt: now };
        }
        return { authorization: `Bearer ${this.#tokenFile.token}` };
      }
      case 'exec': {
        const credential: ExecCredential = await this.#exec!.credential();
        return {
          authorization: credential.token ? `Bearer ${credential.token}` : undefined,
          ...(credential.cert && credential.key ? { cert: credential.cert, key: credential.key } : {}),
        };
      }
    }
  }

  /** Forgets a credential that can be fetched again; false when there is nothing new to fetch. */
  #forgetCredentials(): boolean {
    if (this.#exec) {
      this.#exec.forget();
      return true;
    }
    if (this.#tokenFile) {
      this.#tokenFile = undefined;
      return true;
    }
    return false;
  }

  #agentFor(secure: boolean, identity: Identity): HttpAgent {
    const cert = identity.cert ?? this.#connection.tls.cert;
    if (this.#agent && this.#agent.cert === cert) return this.#agent.agent;
    this.#agent?.agent.destroy();
    const tls = this.#connection.tls;
    const agent = secure
      ? new https.Agent({
          keepAlive: true,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(cert ? { cert, key: identity.key ?? tls.key } : {}),
          rejectUnauthorized: !tls.insecureSkipVerify,
          ...(tls.serverName ? { servername: tls.serverName } : {}),
        })
      : new http.Agent({ keepAlive: true });
    this.#agent = { cert, agent };
    return agent;
  }
}

/** The whole body of a response, as text. */
export function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}
