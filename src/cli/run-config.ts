// Flags of `celerybeat-operator run` (design §6), each also read from its environment variable. Every bad
// value fails here, at start, with one line naming the flag and the value.
import { parseArgs } from 'node:util';
import { DEFAULT_TIMINGS, type LeaseTimings, validateTimings } from '../leadership/lease-timings.ts';
import { isLogLevel } from '../observe/log-levels.ts';
import { redactUrl } from '../observe/redact-url.ts';
import { isKnownTimeZone } from '../schedule/zone.ts';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.ts';
import { checkFlags } from './flag-check.ts';

export type LeaderElectMode = 'lease' | 'redis' | 'none';

export type DurableClaimsMode = 'auto' | 'on' | 'off';

export interface RunConfig {
  kubeconfig?: string;
  manifests?: string;
  namespace?: string;
  redisUrl: string;
  brokerUrl: string;
  keyPrefix: string;
  timezone: string;
  leaderElect: LeaderElectMode;
  metricsAddr: string;
  healthAddr: string;
  logLevel: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  /** --redis-cluster: the redis URL names seed nodes of a Redis Cluster. */
  redisCluster: boolean;
  /** --durable-claims: WAIT for a replica before publishing to a separate broker. */
  durableClaims: DurableClaimsMode;
  /** --result-backend: where the workers store results (Redis), or undefined. */
  resultBackend?: string;
  /** --max-backfill: the largest backfill range, in slots. */
  maxBackfill: number;
  /** --redis-schedules: hand-written keys under the prefix are schedules too. */
  redisSchedules: boolean;
  /** Lease timings (--leader-elect lease), checked against client-go's rules. */
  lease: LeaseTimings;
}

interface FlagSpec {
  env?: string;
  help: string;
  default?: string;
  /** A switch: given without a value; its variable takes true/false. */
  switch?: true;
}

/** The flags, in the order `--help` lists them; the README's configuration table is checked against this. */
export const RUN_FLAGS: Record<string, FlagSpec> = {
  kubeconfig: {
    env: 'KUBECONFIG',
    help: 'kubeconfig of the API server to watch (default: in-cluster, else ~/.kube/config)',
  },
  manifests: { help: 'standalone mode: read PeriodicTask YAML files from this directory, no API server' },
  namespace: { env: 'WATCH_NAMESPACE', help: 'namespace to watch (default: all)' },
  'redis-url': {
    env: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379/0',
    help: 'schedule store (redis://, rediss://, redis+sentinel://, rediss+sentinel://)',
  },
  'redis-cluster': {
    env: 'REDIS_CLUSTER',
    switch: true,
    default: 'false',
    help: 'the redis URL names Redis Cluster seed nodes (the key prefix needs a {hash tag})',
  },
  'durable-claims': {
    env: 'DURABLE_CLAIMS',
    default: 'auto',
    help: 'auto, on or off: a claim reaches a replica (WAIT) before its run goes to a separate broker (auto: when the master has one)',
  },
  'broker-url': {
    env: 'CELERY_BROKER_URL',
    help: 'Celery broker: redis://, rediss://, redis+sentinel://, amqp://, amqps:// (default: the redis URL)',
  },
  'key-prefix': { env: 'KEY_PREFIX', default: 'tasks:meta:', help: 'Redis key prefix of the task keys' },
  timezone: {
    env: 'TIMEZONE',
    default: 'UTC',
    help: 'default IANA time zone for crontab and cron schedules',
  },
  'result-backend': {
    env: 'CELERY_RESULT_BACKEND',
    help: "Celery's Redis result backend (redis://, rediss://): run results in status; needed by concurrencyPolicy Forbid and Replace",
  },
  'max-backfill': {
    default: '1000',
    help: 'most slots one celerybeat.io/backfill range may run; a larger range runs nothing',
  },
  'redis-schedules': {
    env: 'REDIS_SCHEDULES',
    switch: true,
    default: 'false',
    help: 'also run hand-written celerybeat-redis keys under the prefix (keys without an owner)',
  },
  'leader-elect': {
    help: 'lease, redis or none (default: lease with an API server, redis in standalone mode)',
  },
  'metrics-addr': { default: ':8080', help: 'address of the Prometheus /metrics endpoint' },
  'health-addr': { default: ':8081', help: 'address of the /healthz and /readyz endpoints' },
  'log-level': {
    env: 'LOG_LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  'kube-api-qps': { default: '20', help: 'status writes per second to the API server (sustained)' },
  'kube-api-burst': { default: '40', help: 'status writes allowed in a burst' },
  'lease-duration': {
    default: String(DEFAULT_TIMINGS.leaseDurationMs / 1000),
    help: 'seconds a standby waits before taking over a Lease that was not renewed',
  },
  'renew-deadline': {
    default: String(DEFAULT_TIMINGS.renewDeadlineMs / 1000),
    help: 'seconds the leader keeps trying to renew its Lease before it gives up',
  },
  'retry-period': {
    default: String(DEFAULT_TIMINGS.retryPeriodMs / 1000),
    help: 'seconds between Lease acquire and renew attempts',
  },
};

export function runUsage(): string {
  const lines = Object.entries(RUN_FLAGS).map(([name, spec]) => {
    const extra = [
      spec.default !== undefined ? `default ${spec.default}` : '',
      spec.env ? `env ${spec.env}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `  --${name.padEnd(16)} ${spec.help}${extra ? ` [${extra}]` : ''}`;
  });
  return `Usage: celerybeat-operator run [flags]\n\nRuns the operator: watches PeriodicTasks, mirrors them into Redis and publishes their runs.\n\nFlags:\n${lines.join('\n')}\n  --help             show this help\n`;
}

export class ConfigError extends Error {}

export function parseRunConfig(argv: string[], env: NodeJS.ProcessEnv): RunConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = {
      ...Object.fromEntries(
        Object.entries(RUN_FLAGS).map(([name, spec]) => [
          name,
          { type: spec.switch ? ('boolean' as const) : ('string' as const) },
        ]),
      ),
      help: { type: 'boolean' as const },
    };
    checkFlags(argv, options, false);
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (error) {
    throw new ConfigError((error as Error).message.split('\n')[0]!);
  }
  if (values.help) return 'help';
  const read = (name: string): string | undefined => {
    const spec = RUN_FLAGS[name]!;
    const value = values[name];
    if (typeof value === 'string') return value;
    if (value === true) return 'true';
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default;
  };

  const redisCluster = switchValue('--redis-cluster', read('redis-cluster')!);
  const redisUrl = checkRedisUrl('--redis-url', read('redis-url')!, redisCluster);
  const brokerFlag = read('broker-url');
  if (redisCluster && brokerFlag === undefined) {
    throw new ConfigError(
      "--redis-cluster needs --broker-url: Celery's Redis transport cannot consume from a Redis Cluster",
    );
  }
  const brokerUrl = isRedisUrl(brokerFlag ?? '')
    ? checkRedisUrl('--broker-url', brokerFlag!, false)
    : checkUrl('--broker-url', brokerFlag ?? redisUrl, ['redis:', 'rediss:', 'amqp:', 'amqps:']);
  const durableClaims = read('durable-claims')!;
  if (durableClaims !== 'auto' && durableClaims !== 'on' && durableClaims !== 'off') {
    throw new ConfigError(`--durable-claims must be auto, on or off, got "${durableClaims}"`);
  }
  const manifests = read('manifests');
  const leaderElect = read('leader-elect') ?? (manifests ? 'redis' : 'lease');
  if (leaderElect !== 'lease' && leaderElect !== 'redis' && leaderElect !== 'none') {
    throw new ConfigError(`--leader-elect must be lease, redis or none, got "${leaderElect}"`);
  }
  if (leaderElect === 'lease' && manifests) {
    throw new ConfigError('--leader-elect lease needs an API server; with --manifests use redis or none');
  }
  const timezone = read('timezone')!;
  if (!isKnownTimeZone(timezone)) throw new ConfigError(`--timezone: unknown IANA time zone "${timezone}"`);
  const logLevel = read('log-level')!;
  if (!isLogLevel(logLevel)) throw new ConfigError(`--log-level: unknown level "${logLevel}"`);
  const resultUrl = read('result-backend');
  const resultBackend =
    resultUrl === undefined ? undefined : checkUrl('--result-backend', resultUrl, ['redis:', 'rediss:']);
  const keyPrefix = read('key-prefix')!;
  if (keyPrefix === '') throw new ConfigError('--key-prefix must not be empty');
  if (redisCluster && !hasHashTag(keyPrefix)) {
    throw new ConfigError(
      `--key-prefix "${keyPrefix}" needs a hash tag with --redis-cluster, e.g. "{${keyPrefix}}": every task key must be in one hash slot`,
    );
  }
  const redisSchedules = switchValue('--redis-schedules', read('redis-schedules')!);
  if (redisCluster && redisSchedules) {
    throw new ConfigError('--redis-schedules is not supported with --redis-cluster');
  }

  return {
    kubeconfig: read('kubeconfig'),
    manifests,
    namespace: read('namespace'),
    redisUrl,
    redisCluster,
    durableClaims,
    brokerUrl,
    keyPrefix,
    timezone,
    leaderElect,
    metricsAddr: read('metrics-addr')!,
    healthAddr: read('health-addr')!,
    logLevel,
    kubeApiQps: positiveNumber('--kube-api-qps', read('kube-api-qps')!),
    kubeApiBurst: positiveNumber('--kube-api-burst', read('kube-api-burst')!),
    redisSchedules,
    resultBackend,
    maxBackfill: Math.floor(positiveNumber('--max-backfill', read('max-backfill')!)),
    lease: leaseTimings(read),
  };
}

function leaseTimings(read: (name: string) => string | undefined): LeaseTimings {
  const ms = (flag: string): number => positiveNumber(`--${flag}`, read(flag)!) * 1000;
  const timings = {
    leaseDurationMs: ms('lease-duration'),
    renewDeadlineMs: ms('renew-deadline'),
    retryPeriodMs: ms('retry-period'),
  };
  try {
    validateTimings(timings);
  } catch (error) {
    throw new ConfigError(`--lease-duration, --renew-deadline, --retry-period: ${(error as Error).message}`);
  }
  return timings;
}

function checkUrl(flag: string, value: string, schemes: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${flag}: not a URL: "${redactUrl(value)}"`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new ConfigError(`${flag}: scheme must be one of ${schemes.join(' ')}, got "${url.protocol}"`);
  }
  if (url.protocol.startsWith('redis')) {
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db))
      throw new ConfigError(`${flag}: database must be a number, got "${db}"`);
  }
  return value;
}

function checkRedisUrl(flag: string, value: string, cluster: boolean): string {
  try {
    parseRedisUrl(value, { cluster });
  } catch (error) {
    throw new ConfigError(`${flag}: ${(error as Error).message}: "${redactUrl(value)}"`);
  }
  return value;
}

/** Redis Cluster's rule: the part between the first "{" and the next "}", when not empty, is hashed. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1;
}

function switchValue(flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${flag}: expected true or false, got "${value}"`);
}

function positiveNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(`${flag} must be a positive number, got "${value}"`);
  return n;
}
