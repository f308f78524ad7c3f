// `celerybeat-operator run` once its flags are checked: builds every layer and runs until SIGTERM.
import { Redis, type RedisOptions } from 'ioredis';
import { taskKey } from '../api/types.ts';
import { Beat } from '../beat/beat.ts';
import { ManualRuns } from '../beat/manual-runs.ts';
import { AtomicRedisDispatcher, ClaimThenPublishDispatcher } from '../beat/slot-dispatcher.ts';
import { createBroker } from '../celery/broker.ts';
import { brokerScheme } from '../celery/broker-url.ts';
import { encodeRedisEnvelope, redisRouteFor, resolveRedisRoutes } from '../celery/redis-transport.ts';
import type { Broker, Leadership, SlotDispatcher, StatusSink, TaskEvents, TaskSource } from '../contracts.ts';
import { Operator } from '../controller/operator.ts';
import { Reconciler } from '../controller/reconciler.ts';
import { KubeApi } from '../kube/api-client.ts';
import { EventRecorder } from '../kube/event-recorder.ts';
import { loadKubeConfig, NoKubeConfigError, operatorNamespace } from '../kube/kubeconfig.ts';
import { StatusWriter, statusPatcher } from '../kube/status-writer.ts';
import { PeriodicTaskInformer } from '../kube/task-informer.ts';
import { defaultIdentity } from '../leadership/lease-elector.ts';
import { LeaseLeadership } from '../leadership/lease-leadership.ts';
import { NoLeaderElection } from '../leadership/no-leader-election.ts';
import { leaderLockKey, RedisLeaderLock } from '../leadership/redis-leader-lock.ts';
import { parseListenAddress, startHealthServer, startMetricsServer } from '../observe/http-server.ts';
import { createLogger, type Logger } from '../observe/logger.ts';
import { internalErrorsTotal, registry } from '../observe/metrics.ts';
import { redactUrl } from '../observe/redact-url.ts';
import { RedisScheduleSource } from '../redis-schedules/redis-schedule-source.ts';
import {
  routeHandWrittenEvents,
  routeHandWrittenStatus,
  withHandWrittenKeys,
} from '../redis-schedules/with-hand-written.ts';
import { ResultOverlapGuard } from '../results/overlap-guard.ts';
import { RedisHistoryStore } from '../results/redis-history-store.ts';
import { RedisResultBackend } from '../results/redis-result-backend.ts';
import { RunTracker } from '../results/run-tracker.ts';
import { LogStatusSink } from '../standalone/log-status-sink.ts';
import { ManifestDirectorySource } from '../standalone/manifest-source.ts';
import { RedisManualRunRecord } from '../store/manual-run-record.ts';
import { connectionOptions, connectRedis, type StoreRedis } from '../store/redis-connection.ts';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.ts';
import { RedisTaskStore } from '../store/task-store.ts';
import type { RunConfig } from './run-config.ts';

/** How long shutdown may take before the process exits anyway: well inside the chart's 30 s grace period. */
const SHUTDOWN_TIMEOUT_MS = 12_000;
/** The part of it the operator's own steps (beat, status flush, leadership release) may use. */
const OPERATOR_STOP_BUDGET_MS = 8000;

/** Runs the operator with flags already checked (run-command.ts) until SIGTERM; the exit status. */
export async function runOperatorCommand(config: RunConfig): Promise<number> {
  const logger = createLogger(config.logLevel);
  // Every failure has a home (a task's status, a retry, a log line); one that escapes to here is a defect.
  // It is logged and counted, for tests and alerts to catch, instead of taking every other task down.
  process.on('unhandledRejection', (reason) => {
    internalErrorsTotal.inc();
    logger.error({ err: reason }, 'unhandled rejection (a defect; the operator carries on)');
  });
  try {
    return await runOperator(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start');
    process.stderr.write(`celerybeat-operator run: ${(error as Error).message}\n`);
    // Connections and servers opened before the failure would keep a process that cannot work alive.
    process.exit(1);
  }
}

async function runOperator(config: RunConfig, logger: Logger): Promise<number> {
  logger.info(
    {
      mode: config.manifests ? 'standalone' : 'kubernetes',
      redis: redactUrl(config.redisUrl),
      broker: redactUrl(config.brokerUrl),
      leaderElect: config.leaderElect,
    },
    'starting',
  );
  // Few retries: a dispatch against a Redis that is down fails fast and is retried by the beat. Never a
  // resend after a dropped connection: a claim whose reply was lost is given back instead (slot-dispatcher).
  const redis = connectRedis(parseRedisUrl(config.redisUrl, { cluster: config.redisCluster }), {
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    autoResendUnfulfilledCommands: false,
  });
  let connectionError = '';
  redis.on('error', (error: Error) => {
    connectionError = error.message;
    logger.debug({ err: error }, 'redis connection error');
  });
  await waitForRedis(redis, config.redisUrl, logger, () => connectionError);
  const broker = await createBroker(config.brokerUrl, brokerConnection(config.brokerUrl));
  const brokerDb = config.redisCluster ? undefined : await sameServerBrokerDb(redis, config.brokerUrl);
  const store = new RedisTaskStore(redis, {
    keyPrefix: config.keyPrefix,
    lockKey: leaderLockKey(config.keyPrefix),
    brokerDb,
    durableClaims: { replicas: 1, timeoutMs: 2000, onlyWithReplicas: config.durableClaims === 'auto' },
  });
  // Same server: claim and message are one write, nothing to wait for (README: Redis topologies).
  const durableClaims = brokerDb === undefined && config.durableClaims !== 'off';
  const dispatcher = await createDispatcher(store, broker, config.brokerUrl, brokerDb, durableClaims);
  logger.info({ atomic: brokerDb !== undefined, durableClaims }, 'broker connected');

  const parts = config.manifests
    ? standaloneParts(config, logger, redis)
    : kubernetesParts(config, logger, redis);
  const { source, status, events, leadership } = config.redisSchedules
    ? withRedisSchedules(parts, config, logger, redis)
    : parts;
  let exitCode = 0;
  const exitNow = (code: number): void => {
    exitCode = code;
    void shutdown();
  };
  const results = config.resultBackend ? resultsParts(config, logger, redis, broker, status) : undefined;
  const manualRuns = new ManualRuns({
    record: new RedisManualRunRecord(redis, (key) => store.redisKey(key)),
    broker,
    status,
    logger,
    maxBackfill: config.maxBackfill,
    ...(results ? { runs: results.tracker } : {}),
  });
  const beat = new Beat({
    unrun: (key, range) => manualRuns.unrun(key, range),
    store,
    dispatcher,
    logger,
    fenceToken: () => leadership.token,
    listener: Operator.beatListener(status, events, () => void leadership.confirm(), results?.tracker),
    ...(results ? { overlap: results.guard } : {}),
  });
  const reconciler = new Reconciler({
    store,
    beat,
    status,
    events,
    logger,
    defaultTimeZone: config.timezone,
    resultBackend: results !== undefined,
    manualRuns,
    ...(config.redisSchedules ? { handWritten: store } : {}),
  });
  const operator = new Operator({
    source,
    reconciler,
    beat,
    leadership,
    status,
    logger,
    onLeadershipLost: () => exitNow(1),
  });

  const metrics = await startMetricsServer(parseListenAddress(config.metricsAddr), registry);
  const health = await startHealthServer(parseListenAddress(config.healthAddr), {
    healthz: { leadership: () => leadership.healthy() },
    readyz: { source: () => operator.ready() || 'PeriodicTasks not synced yet' },
  });
  logger.info({ metricsPort: metrics.port, healthPort: health.port }, 'serving metrics and health probes');

  let stopping: Promise<void> | undefined;
  const done = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => void shutdown().then(resolve));
    process.once('SIGINT', () => void shutdown().then(resolve));
  });
  async function shutdown(): Promise<void> {
    stopping ??= (async () => {
      logger.info('shutting down');
      const timer = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        process.exit(exitCode || 1);
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await operator.stop(OPERATOR_STOP_BUDGET_MS);
      manualRuns.stop();
      await results?.close();
      // An unreachable broker must not hold the exit: its connection is dropped after a short wait.
      const closing = Promise.all([broker.close(), metrics.close(), health.close()]);
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      redis.disconnect();
      logger.info('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  }

  await operator.start();
  results?.tracker.start();
  await done;
  return exitCode;
}

interface ModeParts {
  source: TaskSource;
  status: StatusSink;
  events: TaskEvents;
  leadership: Leadership;
}

function kubernetesParts(config: RunConfig, logger: Logger, redis: StoreRedis): ModeParts {
  const connection = kubeConnection(config.kubeconfig);
  const api = new KubeApi(connection);
  const informer = new PeriodicTaskInformer(api, { namespace: config.namespace, logger });
  const status = new StatusWriter(statusPatcher(api), {
    logger,
    currentStatus: (namespace, name) => informer.get(taskKey(namespace, name)),
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
  });
  const events = new EventRecorder(api, { logger, reportingInstance: defaultIdentity() });
  const leadership =
    config.leaderElect === 'lease'
      ? new LeaseLeadership(api, operatorNamespace(connection), logger, config.lease)
      : leadershipWithoutApi(config, logger, redis);
  return { source: informer, status, events, leadership };
}

function kubeConnection(path: string | undefined) {
  try {
    return loadKubeConfig(path);
  } catch (error) {
    if (error instanceof NoKubeConfigError)
      throw new Error(`${error.message} (or use --manifests DIR for standalone mode)`);
    throw error;
  }
}

function standaloneParts(config: RunConfig, logger: Logger, redis: StoreRedis): ModeParts {
  const source = new ManifestDirectorySource(config.manifests!, logger);
  const status = new LogStatusSink(logger);
  // Whoever reports a problem has logged it already: the log is standalone mode's only event stream.
  const events: TaskEvents = { warning: () => {}, normal: () => {} };
  return { source, status, events, leadership: leadershipWithoutApi(config, logger, redis) };
}

/** --result-backend: runs are followed to their results, and Forbid/Replace keep them from overlapping. */
function resultsParts(
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
  broker: Broker,
  status: StatusSink,
) {
  const backend = new RedisResultBackend(config.resultBackend!);
  const tracker = new RunTracker({
    backend,
    status,
    logger,
    history: new RedisHistoryStore(redis, config.keyPrefix),
  });
  return {
    tracker,
    guard: new ResultOverlapGuard(backend, broker),
    async close() {
      await tracker.stop();
      await backend.close();
    },
  };
}

/** --redis-schedules: hand-written keys join the source; their status and events go to the log. */
function withRedisSchedules(
  parts: ModeParts,
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
): ModeParts {
  if (!(redis instanceof Redis)) throw new Error('--redis-schedules is not supported with --redis-cluster');
  const handWritten = new RedisScheduleSource(redis, logger, {
    keyPrefix: config.keyPrefix,
    defaultTimeZone: config.timezone,
  });
  return {
    ...parts,
    source: withHandWrittenKeys(parts.source, handWritten),
    status: routeHandWrittenStatus(parts.status, new LogStatusSink(logger)),
    events: routeHandWrittenEvents(parts.events),
  };
}

function leadershipWithoutApi(config: RunConfig, logger: Logger, redis: StoreRedis): Leadership {
  if (config.leaderElect === 'none') return new NoLeaderElection();
  logger.debug('leader election through a Redis lock');
  return new RedisLeaderLock(redis, { key: leaderLockKey(config.keyPrefix) });
}

/** Waits until the schedule store answers, saying so in the log, instead of failing at start. */
async function waitForRedis(
  redis: StoreRedis,
  url: string,
  logger: Logger,
  lastConnectionError: () => string,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await redis.ping();
      return;
    } catch (error) {
      const reason = lastConnectionError() || (error as Error).message;
      logger.warn({ redis: redactUrl(url), attempt, reason }, 'Redis is not reachable yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(attempt, 5) * 1000));
    }
  }
}

/** The broker's database number when it is a Redis on the store's own server (same run_id), else undefined. */
async function sameServerBrokerDb(store: StoreRedis, brokerUrl: string): Promise<number | undefined> {
  const scheme = brokerScheme(brokerUrl);
  if (scheme !== 'redis' && scheme !== 'rediss') return undefined;
  const probe = new Redis({
    ...brokerConnection(brokerUrl).redis,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  let refusal = '';
  probe.on('error', (error: Error) => {
    refusal = error.message;
  });
  try {
    const brokerInfo = await probe.info('server').catch((error: unknown) => {
      throw new Error(
        `broker ${redactUrl(brokerUrl)} is not reachable: ${refusal || (error as Error).message}`,
      );
    });
    const storeInfo = await store.info('server');
    const runId = (info: string): string | undefined => /run_id:(\w+)/.exec(info)?.[1];
    if (runId(storeInfo) === undefined || runId(storeInfo) !== runId(brokerInfo)) return undefined;
    return probe.options.db ?? 0;
  } finally {
    probe.disconnect();
  }
}

/** A Redis broker's connection read from its URL (Sentinels, TLS files); nothing for AMQP. */
function brokerConnection(brokerUrl: string): { redis?: RedisOptions } {
  return isRedisUrl(brokerUrl) ? { redis: connectionOptions(parseRedisUrl(brokerUrl)) } : {};
}

async function createDispatcher(
  store: RedisTaskStore,
  broker: Broker,
  brokerUrl: string,
  brokerDb: number | undefined,
  durableClaims: boolean,
): Promise<SlotDispatcher> {
  if (brokerDb === undefined) return new ClaimThenPublishDispatcher(store, broker, { durableClaims });
  const routingRedis = new Redis({ ...brokerConnection(brokerUrl).redis, maxRetriesPerRequest: 2 });
  // Connection errors surface as failed publishes of the slots concerned, which are retried.
  routingRedis.on('error', () => {});
  return new AtomicRedisDispatcher(
    store,
    {
      listKeys: (options) => resolveRedisRoutes(routingRedis, options),
      envelope: (message, options) => encodeRedisEnvelope(message, redisRouteFor(options)),
    },
    broker,
  );
}
