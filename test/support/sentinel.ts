// A Sentinel-managed Redis: one master, two replicas and three Sentinels (quorum 2), each a real
// redis-server process on a free loopback port, without persistence. The master can be killed with
// SIGKILL; the Sentinels then promote a replica, as in production.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts, waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';
import { redisCall } from './redis-call.ts';

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
export const MASTER_NAME = 'cbmaster';

export interface SentinelSet {
  /** `redis+sentinel://127.0.0.1:<s1>,…/<master>/<db>` */
  url(db?: number): string;
  sentinelPorts: number[];
  /** The port of the master the Sentinels name now. */
  masterPort(): Promise<number>;
  /** A client connected straight to a data node. */
  node(port: number): Redis;
  /**
   * SIGSTOPs every replica of the current master and cuts their links on the master (a stopped process
   * would still receive what is already in its socket): the master takes writes that no replica receives,
   * as when replication lags. `resumeReplicas` SIGCONTs them; they fetch what they missed only from a
   * master that is still there.
   */
  pauseReplicas(): Promise<void>;
  resumeReplicas(): void;
  /** SIGKILLs the current master; resolves with its port and the moment of the kill. */
  killMaster(): Promise<{ port: number; at: number }>;
  /**
   * Starts a data node that was killed again on its port, empty (its snapshot removed); the Sentinels make it a replica of the
   * master they name (or, back before they noticed it was gone, it is the master again: a master restarted
   * empty, whose replicas then copy its empty data).
   */
  restartNode(port: number): Promise<void>;
  /** Resolves once the master has `count` replicas online. */
  waitForReplicas(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the Sentinels name a master other than `oldPort` and it accepts writes. */
  waitForNewMaster(oldPort: number, timeoutMs?: number): Promise<number>;
  /**
   * The master once every Sentinel names the same one and it accepts writes: under load a failover can
   * promote a second replica after the first, and the first one's writes are then gone.
   */
  settledMaster(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

interface Node {
  port: number;
  proc: ManagedProcess;
}

function startNode(dir: string, port: number, args: string[], name: string): Node {
  const proc = startProcess(name, REDIS_SERVER, [
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
    '--loglevel',
    'warning',
    ...args,
  ]);
  return { port, proc };
}

function sentinelConfig(dir: string, port: number, masterPort: number): string {
  const file = join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  return file;
}

/** A flat [k, v, k, v…] reply as a map. */
function pairs(reply: unknown): Map<string, string> {
  const list = Array.isArray(reply) ? (reply as string[]) : [];
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(list[i]!, list[i + 1]!);
  return map;
}

export async function startSentinelSet(): Promise<SentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), 'celerybeat-sentinel-'));
  const ports = await freePorts(6);
  const dataPorts = ports.slice(0, 3);
  const sentinelPorts = ports.slice(3);
  const nodes = new Map<number, Node>();
  const sentinels: Node[] = [];
  const [first, ...rest] = dataPorts as [number, number, number];
  const nodeDir = (port: number): string => join(dir, `node-${port}`);
  for (const port of dataPorts) mkdirSync(nodeDir(port));
  nodes.set(first, startNode(nodeDir(first), first, [], `redis master ${first}`));
  for (const port of rest) {
    nodes.set(
      port,
      startNode(nodeDir(port), port, ['--replicaof', '127.0.0.1', String(first)], `redis replica ${port}`),
    );
  }
  const clients: Redis[] = [];
  const paused = new Set<number>();
  const set: SentinelSet = {
    sentinelPorts,
    url: (db = 0) =>
      `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}/${db}`,
    async masterPort() {
      for (const port of sentinelPorts) {
        try {
          const reply = (await redisCall(
            port,
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            MASTER_NAME,
          )) as string[];
          return Number(reply[1]);
        } catch {
          // Try the next Sentinel.
        }
      }
      throw new Error('no Sentinel answered');
    },
    node(port) {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async pauseReplicas() {
      const master = await set.masterPort();
      for (const [port, node] of nodes) {
        if (port === master || node.proc.hasExited() || !node.proc.child.pid) continue;
        process.kill(node.proc.child.pid, 'SIGSTOP');
        paused.add(node.proc.child.pid);
      }
      await redisCall(master, 'CLIENT', 'KILL', 'TYPE', 'replica');
    },
    resumeReplicas() {
      for (const pid of paused) process.kill(pid, 'SIGCONT');
      paused.clear();
    },
    async killMaster() {
      const port = await set.masterPort();
      const node = nodes.get(port);
      if (!node?.proc.child.pid) throw new Error(`no process for master ${port}`);
      process.kill(node.proc.child.pid, 'SIGKILL');
      const at = Date.now();
      await node.proc.exited;
      return { port, at };
    },
    async restartNode(port) {
      const node = nodes.get(port);
      if (node === undefined) throw new Error(`no data node on port ${port}`);
      if (!node.proc.hasExited()) throw new Error(`data node ${port} is still running`);
      // Empty means no snapshot either: a node that was once a replica keeps the RDB of its last full sync
      // (replicas load a sync from disk), and starting on it would take the store back to that moment.
      const dir = nodeDir(port);
      for (const file of await readdir(dir)) if (file.endsWith('.rdb')) await rm(join(dir, file));
      nodes.set(port, startNode(dir, port, [], `redis node ${port}`));
      await waitUntil(
        `data node ${port} answering again`,
        async () => {
          const restarted = nodes.get(port)!;
          if (restarted.proc.hasExited())
            throw new Error(`redis-server exited:\n${tail(restarted.proc.output())}`);
          return (await redisCall(port, 'PING').catch(() => '')) === 'PONG';
        },
        15_000,
      );
    },
    async waitForReplicas(count, timeoutMs = 30_000) {
      await waitUntil(
        `the master with ${count} replicas online`,
        async () => {
          const master = await set.masterPort().catch(() => 0);
          const info = String(await redisCall(master, 'INFO', 'replication').catch(() => ''));
          return (info.match(/state=online/g) ?? []).length >= count;
        },
        timeoutMs,
        200,
      );
    },
    async waitForNewMaster(oldPort, timeoutMs = 30_000) {
      let found = 0;
      await waitUntil(
        `a new master instead of ${oldPort}`,
        async () => {
          const port = await set.masterPort().catch(() => oldPort);
          if (port === oldPort) return false;
          const role = (await redisCall(port, 'ROLE').catch(() => [])) as unknown[];
          found = port;
          return role[0] === 'master';
        },
        timeoutMs,
      );
      return found;
    },
    async settledMaster(timeoutMs = 30_000) {
      let found = 0;
      await waitUntil(
        'every Sentinel naming the same master',
        async () => {
          const named = await Promise.all(
            sentinelPorts.map((port) =>
              redisCall(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).then(
                (reply) => Number((reply as string[])[1]),
                () => 0,
              ),
            ),
          );
          if (named.some((port) => port !== named[0])) return false;
          const role = (await redisCall(named[0]!, 'ROLE').catch(() => [])) as unknown[];
          found = named[0]!;
          return role[0] === 'master';
        },
        timeoutMs,
      );
      return found;
    },
    async stop() {
      set.resumeReplicas();
      for (const client of clients) client.disconnect();
      await Promise.all([...sentinels, ...nodes.values()].map((n) => n.proc.stop(5000)));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      'the master with two replicas online',
      async () => {
        for (const node of nodes.values()) {
          if (node.proc.hasExited()) throw new Error(`redis-server exited:\n${tail(node.proc.output())}`);
        }
        const info = String(await redisCall(first, 'INFO', 'replication').catch(() => ''));
        return (info.match(/state=online/g) ?? []).length === 2;
      },
      20_000,
    );
    for (const port of sentinelPorts) {
      const proc = startProcess(`redis sentinel ${port}`, REDIS_SERVER, [
        sentinelConfig(dir, port, first),
        '--sentinel',
      ]);
      sentinels.push({ port, proc });
    }
    await waitUntil(
      'three Sentinels that see each other and both replicas',
      async () => {
        for (const s of sentinels) {
          if (s.proc.hasExited()) throw new Error(`redis-sentinel exited:\n${tail(s.proc.output())}`);
        }
        for (const port of sentinelPorts) {
          const master = pairs(await redisCall(port, 'SENTINEL', 'MASTER', MASTER_NAME).catch(() => []));
          if (master.get('num-slaves') !== '2' || master.get('num-other-sentinels') !== '2') return false;
        }
        return true;
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
