// Flags of `celerybeat-operator run`, each also read from its environment variable. Every bad
// value fails here, at start, with one line naming the flag and the value.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_KEY_PREFIX } from '../api/types.ts';
import { LEASE_NAME } from '../leadership/lease-elector.ts';
import { DEFAULT_TIMINGS, type LeaseTimings, validateTimings } from '../leadership/lease-timings.ts';
import { isLogFormat, LOG_FORMATS, type LogFormat } from '../observe/log-format.ts';
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
  /** --secrets-dir: standalone mode's broker Secrets, a directory per Secret with a file per key. */
  secretsDir?: string;
  namespace?: string;
  /** --operator-id: this operator on a shared Redis; undefined: derived from what groups its replicas. */
  operatorId?: string;
  redisUrl: string;
  brokerUrl: string;
  keyPrefix: string;
  timezone: string;
  leaderElect: LeaderElectMode;
  metricsAddr: string;
  healthAddr: string;
  logLevel: string;
  logFormat: LogFormat;
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
  /** --lease-name: the Lease the replicas of this operator elect their leader with. */
  leaseName: string;
  /** --lease-namespace: where that Lease lives; undefined: the pod's namespace (kube-connection.ts). */
  leaseNamespace?: string;
  /** --hold-over-limit: how long a leader that cannot renew its Lease keeps leading; undefined: the default. */
  holdOverLimitMs?: number;
  /** --dispatch-stall-timeout: how long due slots may wait, while Redis answers, before /healthz fails. */
  dispatchStallTimeoutMs: number;
  /** --resync-period: between full passes that re-write every key and prune the keys of deleted tasks. */
  resyncMs: number;
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
  'secrets-dir': {
    env: 'SECRETS_DIR',
    help: "standalone mode: the brokers PeriodicTaskPolicies name, a Secret's key as the file <dir>/<name>/<key>",
  },
  namespace: { env: 'WATCH_NAMESPACE', help: 'namespace to watch (default: all)' },
  'operator-id': {
    env: 'OPERATOR_ID',
    help: 'this operator on a shared Redis, recorded in its keys (default: <Lease namespace>/<Lease name>, or the Redis leader lock key in standalone mode)',
  },
  'redis-url': {
    env: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379/0',
    help: 'schedule store (redis://, rediss://, redis+sentinel://, rediss+sentinel://)',
  },
  'redis-url-file': {
    env: 'REDIS_URL_FILE',
    help: 'read the redis URL from this file (a mounted Secret) instead of --redis-url',
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
  'broker-url-file': {
    env: 'CELERY_BROKER_URL_FILE',
    help: 'read the broker URL from this file (a mounted Secret) instead of --broker-url',
  },
  'key-prefix': { env: 'KEY_PREFIX', default: DEFAULT_KEY_PREFIX, help: 'Redis key prefix of the task keys' },
  timezone: {
    env: 'TIMEZONE',
    default: 'UTC',
    help: 'default IANA time zone for crontab and cron schedules',
  },
  'result-backend': {
    env: 'CELERY_RESULT_BACKEND',
    help: "Celery's Redis result backend (redis://, rediss://): run results in status; needed by concurrencyPolicy Forbid and Replace",
  },
  'result-backend-file': {
    env: 'CELERY_RESULT_BACKEND_FILE',
    help: 'read the result backend URL from this file (a mounted Secret) instead of --result-backend',
  },
  'max-backfill': {
    default: '1000',
    help: 'most slots one celerybeat.io/backfill range may run (a larger range runs nothing), and a catchUp All task after one gap',
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
  'lease-name': {
    env: 'LEASE_NAME',
    default: LEASE_NAME,
    help: 'name of the Lease the replicas elect their leader with (one per operator in a namespace)',
  },
  'lease-namespace': {
    env: 'LEASE_NAMESPACE',
    help: "namespace of the Lease (default: POD_NAMESPACE, else the kubeconfig context's namespace, else default)",
  },
  'metrics-addr': { default: ':8080', help: 'address of the Prometheus /metrics endpoint' },
  'health-addr': { default: ':8081', help: 'address of the /healthz and /readyz endpoints' },
  'dispatch-stall-timeout': {
    env: 'DISPATCH_STALL_TIMEOUT',
    default: '120',
    help: 'seconds due slots may go undispatched while the leader runs and Redis answers PING before /healthz fails',
  },
  'log-level': {
    env: 'LOG_LEVEL',
    default: 'info',
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  'log-format': {
    env: 'LOG_FORMAT',
    default: 'auto',
    help: 'json, text (readable lines) or auto (text when stdout is a terminal, else json)',
  },
  'resync-period': {
    default: '300',
    help: 'seconds between full passes that re-write every key and prune the keys of deleted PeriodicTasks',
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
  'hold-over-limit': {
    help: 'seconds a leader that cannot renew its Lease (API server unreachable) keeps dispatching before it steps down (default: 4 × --lease-duration)',
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
    return `  --${name.padEnd(22)} ${spec.help}${extra ? ` [${extra}]` : ''}`;
  });
  return `Usage: celerybeat-operator run [flags]\n\nRuns the operator: watches PeriodicTasks, mirrors them into Redis and publishes their runs.\n\nFlags:\n${lines.join('\n')}\n  --help                   show this help\n`;
}

export class ConfigError extends Error {}

/** Reads a file named by a `*-file` flag; tests give their own. */
export type SecretFileReader = (path: string) => string;

const readSecretFile: SecretFileReader = (path) => readFileSync(path, 'utf8');

export function parseRunConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  readFile: SecretFileReader = readSecretFile,
): RunConfig | 'help' {
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
  /** The flag's value, else its variable's; undefined when neither is set. */
  const given = (name: string): string | undefined => {
    const spec = RUN_FLAGS[name]!;
    const value = values[name];
    if (typeof value === 'string') return value;
    if (value === true) return 'true';
    const fromEnv = spec.env ? env[spec.env] : undefined;
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  };
  const read = (name: string): string | undefined => given(name) ?? RUN_FLAGS[name]!.default;
  /** A URL given directly or in the file its `-file` flag names (never both), else its default. */
  const readUrl = (name: string): string | undefined => {
    const path = given(`${name}-file`);
    if (path === undefined) return read(name);
    if (given(name) !== undefined) {
      throw new ConfigError(`--${name} and --${name}-file are both set: give the URL one way`);
    }
    return urlFromFile(`--${name}-file`, path, readFile);
  };

  const redisCluster = switchValue('--redis-cluster', read('redis-cluster')!);
  const redisUrl = checkRedisUrl('--redis-url', readUrl('redis-url')!, redisCluster);
  const brokerFlag = readUrl('broker-url');
  if (redisCluster && brokerFlag === undefined) {
    throw new ConfigError(
      "--redis-cluster needs --broker-url: Celery's Redis transport cannot consume from a Redis Cluster",
    );
  }
  // Without --broker-url the broker is the store's Redis, whatever form --redis-url took (Sentinel included).
  const brokerUrl =
    brokerFlag === undefined
      ? redisUrl
      : isRedisUrl(brokerFlag)
        ? checkRedisUrl('--broker-url', brokerFlag, false)
        : checkUrl('--broker-url', brokerFlag, ['redis:', 'rediss:', 'amqp:', 'amqps:']);
  const durableClaims = read('durable-claims')!;
  if (durableClaims !== 'auto' && durableClaims !== 'on' && durableClaims !== 'off') {
    throw new ConfigError(`--durable-claims must be auto, on or off, got "${durableClaims}"`);
  }
  const manifests = read('manifests');
  const secretsDir = read('secrets-dir');
  if (secretsDir !== undefined && !manifests) {
    throw new ConfigError(
      "--secrets-dir is for standalone mode (--manifests); with an API server the Secrets are read from the operator's namespace",
    );
  }
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
  const logFormat = read('log-format')!;
  if (!isLogFormat(logFormat)) {
    throw new ConfigError(`--log-format must be ${LOG_FORMATS.join(', ')}, got "${logFormat}"`);
  }
  const resultUrl = readUrl('result-backend');
  const resultBackend =
    resultUrl === undefined ? undefined : checkUrl('--result-backend', resultUrl, ['redis:', 'rediss:']);
  const keyPrefix = read('key-prefix')!;
  if (keyPrefix === '') throw new ConfigError('--key-prefix must not be empty');
  if (redisCluster && !hasHashTag(keyPrefix)) {
    throw new ConfigError(
      `--key-prefix "${keyPrefix}" needs a hash tag with --redis-cluster, e.g. "{${keyPrefix}}": every task key must be in one hash slot`,
    );
  }
  const leaseName = read('lease-name')!;
  if (!isDnsSubdomain(leaseName)) {
    throw new ConfigError(
      `--lease-name must be a Kubernetes object name (lower-case letters, digits, '-' and '.'), got "${leaseName}"`,
    );
  }
  const leaseNamespace = read('lease-namespace');
  if (leaseNamespace !== undefined && !isDnsLabel(leaseNamespace)) {
    throw new ConfigError(
      `--lease-namespace must be a namespace name (lower-case letters, digits and '-'), got "${leaseNamespace}"`,
    );
  }
  const operatorId = read('operator-id');
  if (operatorId === '') throw new ConfigError('--operator-id must not be empty');
  const redisSchedules = switchValue('--redis-schedules', read('redis-schedules')!);
  if (redisCluster && redisSchedules) {
    throw new ConfigError('--redis-schedules is not supported with --redis-cluster');
  }
  const holdOverLimit = read('hold-over-limit');

  return {
    kubeconfig: read('kubeconfig'),
    manifests,
    ...(secretsDir === undefined ? {} : { secretsDir }),
    namespace: read('namespace'),
    operatorId,
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
    logFormat,
    kubeApiQps: positiveNumber('--kube-api-qps', read('kube-api-qps')!),
    kubeApiBurst: positiveNumber('--kube-api-burst', read('kube-api-burst')!),
    redisSchedules,
    resultBackend,
    maxBackfill: Math.floor(positiveNumber('--max-backfill', read('max-backfill')!)),
    lease: leaseTimings(read),
    leaseName,
    ...(leaseNamespace === undefined ? {} : { leaseNamespace }),
    ...(holdOverLimit === undefined
      ? {}
      : { holdOverLimitMs: positiveNumber('--hold-over-limit', holdOverLimit) * 1000 }),
    dispatchStallTimeoutMs:
      positiveNumber('--dispatch-stall-timeout', read('dispatch-stall-timeout')!) * 1000,
    resyncMs: positiveNumber('--resync-period', read('resync-period')!) * 1000,
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

/** The URL in a mounted Secret's file: its whole content, less the line end an editor or `echo` leaves. */
function urlFromFile(flag: string, path: string, readFile: SecretFileReader): string {
  let content: string;
  try {
    content = readFile(path);
  } catch (error) {
    throw new ConfigError(`${flag}: cannot read "${path}": ${(error as Error).message}`);
  }
  const url = content.trim();
  if (url === '') throw new ConfigError(`${flag}: "${path}" is empty`);
  return url;
}

function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name);
}

function isDnsLabel(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
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
