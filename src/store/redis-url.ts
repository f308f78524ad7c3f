// Redis URLs of the store (and of a Redis broker), parsed without loading a client, so flag checks stay fast.
//   redis://[[user]:password@]host[:port][/db][?options]            one server (rediss:// for TLS)
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<master-name>[/db][?options]
//                                                                   Sentinels (rediss+sentinel:// for TLS)
//   with --redis-cluster: redis://[[user]:password@]host[:port][,host[:port]…][?options]   seed nodes
// The Sentinel form is the one redis-py's ecosystem uses (Redis-Sentinel-Url, redisvl, Prefect); ioredis has
// no URL for it. TLS files follow Celery's rediss:// options: ssl_ca_certs, ssl_certfile, ssl_keyfile,
// ssl_cert_reqs (required, the default, or none). sentinel_username / sentinel_password authenticate to the
// Sentinels when they differ from the data nodes' credentials.

export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export interface RedisHostPort {
  host: string;
  port: number;
}

export interface RedisUrlSettings {
  topology: RedisTopology;
  /** The server, the Sentinels or the cluster's seed nodes. */
  hosts: RedisHostPort[];
  /** The Sentinel master name. */
  masterName?: string;
  db: number;
  username?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; verify: boolean };
  sentinelUsername?: string;
  sentinelPassword?: string;
}

const SCHEMES = new Set(['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel']);
const OPTIONS = new Set([
  'ssl_ca_certs',
  'ssl_certfile',
  'ssl_keyfile',
  'ssl_cert_reqs',
  'sentinel_username',
  'sentinel_password',
]);
const URL_SHAPE = /^([a-z+]+):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i;

export class RedisUrlError extends Error {}

/** True for the schemes this module reads (the scheme only, so it never throws). */
export function isRedisUrl(url: string): boolean {
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  return scheme !== undefined && SCHEMES.has(scheme);
}

/** Reads a Redis URL; every error names what is wrong and never repeats the password. */
export function parseRedisUrl(url: string, opts: { cluster?: boolean } = {}): RedisUrlSettings {
  const match = URL_SHAPE.exec(url.trim());
  if (!match) throw new RedisUrlError('not a Redis URL (expected scheme://host[:port]/…)');
  const [, rawScheme = '', userinfo, hostList = '', path = '', query = ''] = match;
  const scheme = rawScheme.toLowerCase();
  if (!SCHEMES.has(scheme)) {
    throw new RedisUrlError(
      `scheme must be redis://, rediss://, redis+sentinel:// or rediss+sentinel://, got "${scheme}://"`,
    );
  }
  const sentinel = scheme.endsWith('+sentinel');
  if (sentinel && opts.cluster) {
    throw new RedisUrlError('a Sentinel URL cannot name a Redis Cluster (--redis-cluster)');
  }
  const topology: RedisTopology = sentinel ? 'sentinel' : opts.cluster ? 'cluster' : 'standalone';
  const hosts = parseHosts(hostList, sentinel ? 26379 : 6379);
  if (topology === 'standalone' && hosts.length > 1) {
    throw new RedisUrlError(
      'several hosts need redis+sentinel:// (Sentinels) or --redis-cluster (seed nodes)',
    );
  }
  const settings: RedisUrlSettings = { topology, hosts, db: 0, ...credentials(userinfo) };
  const segments = path.split('/').filter((s) => s !== '');
  if (sentinel) {
    const [master, db, ...rest] = segments;
    if (!master) throw new RedisUrlError('a Sentinel URL needs the master name: …/<master-name>[/db]');
    if (rest.length > 0) throw new RedisUrlError('a Sentinel URL path is /<master-name>[/db]');
    settings.masterName = decodeURIComponent(master);
    settings.db = database(db);
  } else {
    if (segments.length > 1) throw new RedisUrlError(`the path must be /<db>, got "${path}"`);
    settings.db = database(segments[0]);
  }
  if (topology === 'cluster' && settings.db !== 0) {
    throw new RedisUrlError('a Redis Cluster has only database 0');
  }
  applyOptions(settings, new URLSearchParams(query), scheme.startsWith('rediss'));
  return settings;
}

function credentials(userinfo: string | undefined): Pick<RedisUrlSettings, 'username' | 'password'> {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  // `redis://secret@host` is a password without a user name, as redis-py and ioredis read it.
  if (colon < 0) return { password: decodeURIComponent(userinfo) };
  const username = decodeURIComponent(userinfo.slice(0, colon));
  const password = decodeURIComponent(userinfo.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseHosts(list: string, defaultPort: number): RedisHostPort[] {
  if (list === '') throw new RedisUrlError('no host');
  return list.split(',').map((entry) => {
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(entry);
    if (!m) throw new RedisUrlError(`bad host "${entry}" (expected host[:port])`);
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RedisUrlError(`bad port in "${entry}"`);
    }
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

function database(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw new RedisUrlError(`database must be a number, got "${text}"`);
  return Number(text);
}

function applyOptions(settings: RedisUrlSettings, params: URLSearchParams, tls: boolean): void {
  for (const key of params.keys()) {
    if (!OPTIONS.has(key)) {
      throw new RedisUrlError(`unknown option "${key}" (known: ${[...OPTIONS].join(', ')})`);
    }
  }
  const sentinelUsername = params.get('sentinel_username');
  const sentinelPassword = params.get('sentinel_password');
  if ((sentinelUsername !== null || sentinelPassword !== null) && settings.topology !== 'sentinel') {
    throw new RedisUrlError('sentinel_username and sentinel_password need a Sentinel URL');
  }
  if (sentinelUsername) settings.sentinelUsername = sentinelUsername;
  if (sentinelPassword) settings.sentinelPassword = sentinelPassword;
  const tlsKeys = ['ssl_ca_certs', 'ssl_certfile', 'ssl_keyfile', 'ssl_cert_reqs'];
  if (!tls) {
    const given = tlsKeys.find((k) => params.has(k));
    if (given) throw new RedisUrlError(`${given} needs a TLS URL (rediss:// or rediss+sentinel://)`);
    return;
  }
  const reqs = (params.get('ssl_cert_reqs') ?? 'required').toLowerCase().replace(/^cert_/, '');
  if (reqs !== 'required' && reqs !== 'none') {
    throw new RedisUrlError(`ssl_cert_reqs must be required or none, got "${reqs}"`);
  }
  settings.tls = { verify: reqs === 'required' };
  const ca = params.get('ssl_ca_certs');
  const cert = params.get('ssl_certfile');
  const key = params.get('ssl_keyfile');
  if ((cert === null) !== (key === null)) {
    throw new RedisUrlError('ssl_certfile and ssl_keyfile go together (a client certificate and its key)');
  }
  if (ca) settings.tls.caFile = ca;
  if (cert) settings.tls.certFile = cert;
  if (key) settings.tls.keyFile = key;
}
