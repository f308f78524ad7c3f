// A six-node Redis Cluster (three masters, three replicas) of real redis-server processes on free loopback
// ports (the cluster bus on ports of its own), created with redis-cli --cluster create.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';
import { redisCall } from './redis-call.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

export interface RedisClusterSet {
  ports: number[];
  /** `redis://127.0.0.1:<p1>,127.0.0.1:<p2>` (seed nodes, for --redis-cluster) */
  url: string;
  /** The port of the master serving the slot of `key`. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port`. */
  kill(port: number): Promise<void>;
  /** Resolves once a node other than `oldPort` serves the key's slot as master and the cluster is ok. */
  waitForFailover(key: string, oldPort: number, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisClusterSet> {
  const dir = await mkdtemp(join(tmpdir(), 'celerybeat-cluster-'));
  const ports: number[] = [];
  const nodes = new Map<number, ManagedProcess>();
  const free = await freePorts(12);
  for (let i = 0; i < 6; i++) {
    const port = free[2 * i]!;
    const busPort = free[2 * i + 1]!;
    ports.push(port);
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    nodes.set(
      port,
      startProcess(`redis cluster node ${port}`, REDIS_SERVER, [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(nodeDir, 'nodes.conf'),
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        nodeDir,
        '--loglevel',
        'warning',
      ]),
    );
  }
  const alive = (port: number): boolean => !nodes.get(port)!.hasExited();
  const set: RedisClusterSet = {
    ports,
    url: `redis://${ports
      .slice(0, 3)
      .map((p) => `127.0.0.1:${p}`)
      .join(',')}`,
    async masterOf(key) {
      const slot = Number(await redisCall(ports.find(alive)!, 'CLUSTER', 'KEYSLOT', key));
      for (const port of ports.filter(alive)) {
        const shards = (await redisCall(port, 'CLUSTER', 'SLOTS').catch(() => null)) as Array<
          [number, number, [string, number, ...unknown[]]]
        > | null;
        const owner = shards?.find(([from, to]) => slot >= from && slot <= to);
        if (owner) return Number(owner[2][1]);
      }
      throw new Error(`no node answered CLUSTER SLOTS for slot ${slot}`);
    },
    async kill(port) {
      const proc = nodes.get(port)!;
      if (proc.child.pid) process.kill(proc.child.pid, 'SIGKILL');
      await proc.exited;
    },
    async waitForFailover(key, oldPort, timeoutMs = 30_000) {
      let found = 0;
      await waitUntil(
        `a replica promoted in place of ${oldPort}`,
        async () => {
          const port = await set.masterOf(key).catch(() => oldPort);
          if (port === oldPort) return false;
          const info = String(await redisCall(port, 'CLUSTER', 'INFO').catch(() => ''));
          found = port;
          return info.includes('cluster_state:ok');
        },
        timeoutMs,
        100,
      );
      return found;
    },
    async stop() {
      await Promise.all([...nodes.values()].map((p) => p.stop(5000)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      'six cluster nodes answering',
      async () => {
        for (const [port, proc] of nodes) {
          if (proc.hasExited()) throw new Error(`redis-server ${port} exited:\n${tail(proc.output())}`);
        }
        const pongs = await Promise.all(ports.map((p) => redisCall(p, 'PING').catch(() => null)));
        return pongs.every((p) => p === 'PONG');
      },
      20_000,
    );
    await promisify(execFile)(REDIS_CLI, [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await waitUntil(
      'cluster_state:ok on every node, with three replicas',
      async () => {
        const infos = await Promise.all(ports.map((p) => redisCall(p, 'CLUSTER', 'INFO').catch(() => '')));
        if (!infos.every((i) => String(i).includes('cluster_state:ok'))) return false;
        const roles = await Promise.all(ports.map((p) => redisCall(p, 'ROLE').catch(() => [])));
        return roles.filter((r) => (r as unknown[])[0] === 'slave').length === 3;
      },
      30_000,
      200,
    );
  } catch (error) {
    await set.stop();
    throw error;
  }
  return set;
}
