// The two HTTP listeners of the operator, as controller-runtime lays them out: Prometheus `/metrics` on
// --metrics-addr (default :8080) and the kubelet probes `/healthz`, `/readyz` on --health-addr (:8081).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

// Not `import … from 'node:http'`: the ES module face of node:http reads every export, and one of them
// loads the bundled fetch implementation (several MB resident) that the operator never uses.
const { createServer } = process.getBuiltinModule('node:http');

export interface ListenAddress {
  /** Undefined means every interface (the `:8080` form). */
  host: string | undefined;
  port: number;
}

/** Parses `:8080`, `0.0.0.0:8080`, `127.0.0.1:0`, `[::1]:8080` or `localhost:9000`. */
export function parseListenAddress(value: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    throw new Error(
      `invalid listen address "${value}": expected [host]:port, for example ":8080" or "127.0.0.1:0"`,
    );
  }
  const host = match[1] ?? (match[2] === '' ? undefined : match[2]);
  return { host, port };
}

/** One check: true or an empty string is healthy; false or a non-empty string (the reason) is not. */
export type HealthCheck = () => boolean | string | Promise<boolean | string>;

export interface HealthChecks {
  healthz: Record<string, HealthCheck>;
  readyz: Record<string, HealthCheck>;
}

export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

async function listen(server: Server, address: ListenAddress, what: string): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(new Error(`${what} cannot listen on ${formatAddress(address)}: ${error.message}`));
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function formatAddress(address: ListenAddress): string {
  return `${address.host ?? ''}:${address.port}`;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

export async function startMetricsServer(address: ListenAddress, registry: Registry): Promise<RunningServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') return send(response, 404, 'text/plain', 'not found\n');
    registry.metrics().then(
      (text) => send(response, 200, registry.contentType, text),
      (error: unknown) => send(response, 500, 'text/plain', `collecting metrics failed: ${String(error)}\n`),
    );
  });
  return listen(server, address, 'metrics server');
}

async function runChecks(checks: Record<string, HealthCheck>): Promise<{ name: string; failure?: string }[]> {
  return Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        const verdict = await check();
        if (verdict === true || verdict === '') return { name };
        return { name, failure: verdict === false ? 'failed' : verdict };
      } catch (error) {
        return { name, failure: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/**
 * `/healthz` and `/readyz` answer 200 `ok` when every check passes, else 500 naming the failing checks;
 * `?verbose` lists every check as controller-runtime does. `/healthz/<name>` runs one check.
 */
export async function startHealthServer(
  address: ListenAddress,
  checks: HealthChecks,
): Promise<RunningServer> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const [, endpoint, only] = url.pathname.split('/');
    if (endpoint !== 'healthz' && endpoint !== 'readyz')
      return send(response, 404, 'text/plain', 'not found\n');
    let selected = checks[endpoint];
    if (only !== undefined && only !== '') {
      const check = selected[only];
      if (!check) return send(response, 404, 'text/plain', `no check named "${only}"\n`);
      selected = { [only]: check };
    }
    runChecks(selected).then((results) => {
      const failed = results.filter((result) => result.failure !== undefined);
      const lines = url.searchParams.has('verbose')
        ? results.map((r) =>
            r.failure === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.failure}`,
          )
        : failed.map((r) => `[-]${r.name} failed: ${r.failure}`);
      if (failed.length === 0) lines.push(`${endpoint} check passed`);
      else lines.push(`${endpoint} check failed`);
      const body = failed.length === 0 && !url.searchParams.has('verbose') ? 'ok' : lines.join('\n');
      send(response, failed.length === 0 ? 200 : 500, 'text/plain; charset=utf-8', `${body}\n`);
    });
  });
  return listen(server, address, 'health server');
}
