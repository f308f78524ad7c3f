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

/**
 * ioredis options for one server or a Sentinel-managed master (`extra` adds client behaviour: retries,
 * timeouts). Sentinel: ioredis asks the Sentinels for the master, and on a failover (the old master refuses
 * writes, or the connection drops) asks again; the failover detector subscribes to +switch-master so the
 * switch does not wait for the old master's connection to time out.
 */
export function connectionOptions(settings: RedisUrlSettings, extra: RedisOptions = {}): RedisOptions {
  if (settings.topology === 'cluster') throw new Error('a Redis Cluster needs connectRedis()');
  const tls = tlsOptions(settings);
  const auth: RedisOptions = {
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
  };
  const base: RedisOptions = { ...extra, ...auth, db: settings.db, ...(tls ? { tls } : {}) };
  if (settings.topology === 'standalone') {
    const [only] = settings.hosts;
    return { ...base, host: only!.host, port: only!.port };
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
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}

/** A client for the URL's topology. */
export function connectRedis(settings: RedisUrlSettings, extra: RedisOptions = {}): StoreRedis {
  if (settings.topology !== 'cluster') return new Redis(connectionOptions(settings, extra));
  const tls = tlsOptions(settings);
  const { retryStrategy: _retry, enableOfflineQueue: _offline, ...nodeOptions } = extra;
  return new Cluster(settings.hosts, {
    redisOptions: {
      ...nodeOptions,
      ...(settings.username ? { username: settings.username } : {}),
      ...(settings.password ? { password: settings.password } : {}),
      ...(tls ? { tls } : {}),
    },
    // A failover moves slots: retry a command on the new owner instead of failing it at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    slotsRefreshTimeout: 2000,
  });
}

/** The server-side database number of a connection (a cluster has only 0). */
export function databaseOf(redis: StoreRedis): number {
  return redis instanceof Redis ? (redis.options.db ?? 0) : 0;
}
