// A private redis-server per test (or per test file) on a random loopback port, without persistence.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops the server and starts a new one on the same port with empty data (a Redis restart/failover). */
  restart(): Promise<void>;
  /** Stops the server, keeping its port for `up` (a Redis that is down for a while). */
  down(): Promise<void>;
  /** Starts a stopped server again on the same port, with empty data. */
  up(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function launch(port: number, dir: string): Promise<ManagedProcess> {
  const proc = startProcess('redis-server', REDIS_SERVER, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ]);
  try {
    await waitUntil(
      `redis-server on port ${port}`,
      async () => {
        if (proc.hasExited()) throw new Error(`redis-server exited early:\n${tail(proc.output())}`);
        return ping(port);
      },
      15_000,
    );
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return proc;
}

export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'celerybeat-redis-'));
  const port = await freePort();
  let proc = await launch(port, dir);
  const down = async (): Promise<void> => {
    await proc.stop(5000);
  };
  const up = async (): Promise<void> => {
    proc = await launch(port, dir);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await proc.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await down();
      await up();
    },
    down,
    up,
  };
}
