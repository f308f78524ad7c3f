// The one place a Redis URL becomes an ioredis client: one server, a Sentinel-managed master (followed
// through failover) or a Redis Cluster. The store, the leader lock and a Redis broker all connect here.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisUrlSettings } from './redis-url.ts';

export type StoreRedis = Redis | Cluster;

function readFile(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

/** The TLS settings of a rediss:// URL, with the files it names read now (a missing file fails at start). */
export function tlsOptions(settings: RedisUrlSettings): ConnectionOptions | undefined {
  const tls = settings.tls;
  if (!tls) return undefined;
  const options: ConnectionOptions = { rejectUnauthorized: tls.verify };
  if (tls.caFile) options.ca = readFile('CA file (ssl_ca_certs)', tls.caFile);
  if (tls.certFile) options.cert = readFile('client certificate (ssl_certfile)', tls.certFile);
  if (tls.keyFile) options.key = readFile('client key (ssl_keyfile)', tls.keyFile);
  return options;
}

/** Told, with the server's reply, when a connection reconnects because its server is a read-only replica. */
export type ReadOnlyListener = (reply: Error) => void;

/**
 * What a READONLY reply does. A plain address that answers READONLY reaches a replica: a failover demoted
 * the server, and a name that now leads to the new master (a Service, a cloud endpoint) is only looked up
 * again on a new connection. So the client reconnects, but does not resend the refused command: it had no
 * effect, its caller retries it (the beat retries the slot, a refused publish gives its claim back), and the
 * store never lets the client resend on its own (a claim must not be written behind the dispatcher's back).
 * A resend would also go on being refused for as long as the address leads to the replica. Sentinel asks
 * for the new master on reconnect, so there the refused command is resent to it.
 */
function reconnectOnReadOnly(resend: boolean, onReadOnly: ReadOnlyListener | undefined) {
  return (error: Error): false | 1 | 2 => {
    if (!error.message.startsWith('READONLY')) return false;
    onReadOnly?.(error);
    return resend ? 2 : 1;
  };
}

/**
 * ioredis options for one server or a Sentinel-managed master (`extra` adds client behaviour: retries,
 * timeouts). Sentinel: ioredis asks the Sentinels for the master, and on a failover (the old master refuses
 * writes, or the connection drops) asks again; the failover detector subscribes to +switch-master so the
 * switch does not wait for the old master's connection to time out. Either way a READONLY reply makes the
 * client reconnect (`onReadOnly` hears of it).
 */
export function connectionOptions(
  settings: RedisUrlSettings,
  extra: RedisOptions = {},
  onReadOnly?: ReadOnlyListener,
): RedisOptions {
  if (settings.topology === 'cluster') throw new Error('a Redis Cluster needs connectRedis()');
  const tls = tlsOptions(settings);
  const auth: RedisOptions = {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
  };
  const base: RedisOptions = { ...extra, ...auth, db: settings.db, ...(tls ? { tls } : {}) };
  if (settings.topology === 'standalone') {
    const [only] = settings.hosts;
    return {
      ...base,
      host: only!.host,
      port: only!.port,
      reconnectOnError: reconnectOnReadOnly(false, onReadOnly),
    };
  }
  return {
    ...base,
    sentinels: settings.hosts,
    name: settings.masterName!,
    role: 'master',
    failoverDetector: true,
    ...(settings.sentinelUsername ? { sentinelUsername: settings.sentinelUsername } : {}),
    ...(settings.sentinelPassword ? { sentinelPassword: settings.sentinelPassword } : {}),
    ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    // A demoted master answers READONLY until the client notices the switch: reconnect (to the new one).
    reconnectOnError: reconnectOnReadOnly(true, onReadOnly),
  };
}

/** A client for the URL's topology. */
export function connectRedis(
  settings: RedisUrlSettings,
  extra: RedisOptions = {},
  onReadOnly?: ReadOnlyListener,
): StoreRedis {
  // Never a resend after a dropped connection: the command may have run (see retryDelayOnFailover below).
  const once: RedisOptions = { ...extra, autoResendUnfulfilledCommands: false };
  if (settings.topology !== 'cluster') return new Redis(connectionOptions(settings, once, onReadOnly));
  const tls = tlsOptions(settings);
  const { retryStrategy: _retry, enableOfflineQueue: _offline, ...nodeOptions } = once;
  return new Cluster(settings.hosts, {
    redisOptions: {
      ...nodeOptions,
      ...(settings.username ? { username: settings.username } : {}),
      ...(settings.password ? { password: settings.password } : {}),
      ...(tls ? { tls } : {}),
    },
    // A command a node refused while slots move (MOVED, CLUSTERDOWN) is retried on the new owner; one whose
    // connection dropped is not: it may have run, and a claim script run twice would find its own claim and
    // wait for it as another's. It fails instead, and its caller gives the claim back (slot-dispatcher).
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 300,
    slotsRefreshTimeout: 2000,
  });
}

/** The server-side database number of a connection (a cluster has only 0). */
export function databaseOf(redis: StoreRedis): number {
  return redis instanceof Redis ? (redis.options.db ?? 0) : 0;
}
