// `celerybeat-operator run` once its flags are checked: builds every layer and runs until SIGTERM.
import { Redis, type RedisOptions } from 'ioredis';
import { taskKey } from '../api/types.ts';
import { Beat } from '../beat/beat.ts';
import { type BrokerLine, BrokerRegistry } from '../beat/broker-registry.ts';
import { dispatchStallCheck } from '../beat/dispatch-stall-check.ts';
import { ManualRuns } from '../beat/manual-runs.ts';
import { RoutedDispatcher } from '../beat/routed-dispatcher.ts';
import { AtomicRedisDispatcher, ClaimThenPublishDispatcher } from '../beat/slot-dispatcher.ts';
import { createBroker } from '../celery/broker.ts';
import { brokerScheme } from '../celery/broker-url.ts';
import { encodeRedisEnvelope, redisRouteFor, resolveRedisRoutes } from '../celery/redis-transport.ts';
import type {
  Broker,
  Leadership,
  OverlapGuard,
  PolicySource,
  RunOutcomeListener,
  SecretLookup,
  SlotDispatcher,
  StatusSink,
  TaskEvents,
  TaskSource,
} from '../contracts.ts';
import { BrokerRoutes } from '../controller/broker-routes.ts';
import { BrokerSecrets } from '../controller/broker-secrets.ts';
import { Operator } from '../controller/operator.ts';
import { Reconciler } from '../controller/reconciler.ts';
import { StatusProjection } from '../controller/status-projection.ts';
import { withPolicies } from '../controller/with-policies.ts';
import { EventRecorder } from '../kube/event-recorder.ts';
import { PolicyReader } from '../kube/policy-reader.ts';
import { StatusWriter, statusPatcher } from '../kube/status-writer.ts';
import { PeriodicTaskInformer } from '../kube/task-informer.ts';
import { defaultIdentity } from '../leadership/lease-elector.ts';
import { leaseEpochKey, RedisEpochRecord } from '../leadership/lease-epoch.ts';
import { LeaseLeadership } from '../leadership/lease-leadership.ts';
import { NoLeaderElection } from '../leadership/no-leader-election.ts';
import { leaderLockKey, RedisLeaderLock } from '../leadership/redis-leader-lock.ts';
import { parseListenAddress, startHealthServer, startMetricsServer } from '../observe/http-server.ts';
import { createProcessLogger, type Logger } from '../observe/logger.ts';
import { registry } from '../observe/metrics.ts';
import { exitProcess } from '../observe/process-exit.ts';
import { redactUrl } from '../observe/redact-url.ts';
import { handleUncaughtErrors } from '../observe/uncaught-errors.ts';
import { PolicyBook } from '../policy/policy-book.ts';
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
import { SecretFiles } from '../standalone/secret-files.ts';
import { RedisManualRunRecord } from '../store/manual-run-record.ts';
import { OperatorRegistry } from '../store/operator-registry.ts';
import type { OperatorScope } from '../store/operator-scope.ts';
import {
  connectionOptions,
  connectRedis,
  type ReadOnlyListener,
  type StoreRedis,
} from '../store/redis-connection.ts';
import { isRedisUrl, parseRedisUrl } from '../store/redis-url.ts';
import { RedisTaskStore, type TaskStoreOptions } from '../store/task-store.ts';
import { sleep } from '../timing/sleep.ts';
import { backoffDelay } from '../workqueue/backoff.ts';
import { readOnlyNotice, warnOfEviction } from './redis-notices.ts';
import type { RunConfig } from './run-config.ts';

/** How long shutdown may take before the process exits anyway: well inside the chart's 30 s grace period. */
const SHUTDOWN_TIMEOUT_MS = 12_000;
/** The part of it the operator's own steps (beat, status flush, leadership release) may use. */
const OPERATOR_STOP_BUDGET_MS = 8000;

/** Runs the operator with flags already checked (run-command.ts) until SIGTERM; the exit status. */
export async function runOperatorCommand(config: RunConfig): Promise<number> {
  const logger = await createProcessLogger(config.logLevel, config.logFormat);
  handleUncaughtErrors(process, logger);
  try {
    return await runOperator(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot start');
    process.stderr.write(`celerybeat-operator run: ${(error as Error).message}\n`);
    // Connections and servers opened before the failure would keep a process that cannot work alive.
    exitProcess(1);
  }
}

/** Builds every part, starts leader election and serves the probes; the process ends in `shutdown`. */
async function runOperator(config: RunConfig, logger: Logger): Promise<never> {
  logger.info(
    {
      mode: config.manifests ? 'standalone' : 'kubernetes',
      redis: redactUrl(config.redisUrl),
      broker: redactUrl(config.brokerUrl),
      leaderElect: config.leaderElect,
    },
    'starting',
  );
  const redis = await connectStore(config, logger);
  const parts = config.manifests
    ? standaloneParts(config, logger, redis)
    : await kubernetesParts(config, logger, redis);
  const operators = await registerOperator(redis, operatorScope(config, parts), logger);
  const broker = await createBroker(
    config.brokerUrl,
    brokerConnection(config.brokerUrl, readOnlyNotice(logger, 'broker')),
  );
  const dispatch = await dispatchParts(config, logger, redis, broker, operators.scope, parts.fenceKey);
  logger.info({ atomic: dispatch.atomic, durableClaims: dispatch.durableClaims }, 'broker connected');
  const mode = config.redisSchedules ? withRedisSchedules(parts, config, logger, redis) : parts;
  // The one writer of status: every owner's part goes through its projection.
  const projection = new StatusProjection(mode.status);
  // Replace's revoke goes to each namespace's own broker, through the leader's routed dispatcher.
  const revoke: OverlapGuard['revoke'] = (namespace, ids) => leader.dispatcher.revoke(namespace, ids);
  // Final results go to the beat (made below), which counts failures in a row for spec.pauseAfterFailures.
  const finished: RunOutcomeListener = { finished: (key, run) => leader.beat.finished(key, run) };
  const results = config.resultBackend
    ? resultsParts(config, logger, redis, revoke, projection, finished)
    : undefined;

  let exitCode = 0;
  const leader = leaderWork(config, logger, redis, mode, projection, dispatch, results, (code) => {
    exitCode = code;
    void shutdown();
  });
  const servers = await serveProbes(config, logger, redis, mode.leadership, leader);

  let stopping: Promise<never> | undefined;
  /** Stops everything in order, each part closed once, then exits with the code a failure set (0 on a signal). */
  function shutdown(): Promise<never> {
    stopping ??= (async () => {
      logger.info('shutting down');
      const timer = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        exitProcess(exitCode || 1);
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await leader.operator.stop(OPERATOR_STOP_BUDGET_MS);
      operators.registry.stop();
      leader.manualRuns.stop();
      await results?.close();
      // An unreachable broker must not hold the exit: its connection is dropped after a short wait.
      const closing = Promise.all([leader.brokers.close(), servers.metrics.close(), servers.health.close()]);
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      redis.disconnect();
      logger.info('stopped');
      return exitProcess(exitCode);
    })();
    return stopping;
  }
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());

  await leader.operator.start();
  results?.tracker.start();
  return new Promise<never>(() => {});
}

/** The store's Redis, once it answers (retried with a note in the log), with the eviction warning. */
async function connectStore(config: RunConfig, logger: Logger): Promise<StoreRedis> {
  // Few retries: a dispatch against a Redis that is down fails fast and is retried by the beat. Never a
  // resend after a dropped connection (connectRedis): a claim whose reply was lost is given back instead.
  const redis = connectRedis(
    parseRedisUrl(config.redisUrl, { cluster: config.redisCluster }),
    { maxRetriesPerRequest: 2, connectTimeout: 5000 },
    readOnlyNotice(logger, 'store'),
  );
  let connectionError = '';
  redis.on('error', (error: Error) => {
    connectionError = error.message;
    logger.debug({ err: error }, 'redis connection error');
  });
  await waitForRedis(redis, config.redisUrl, logger, () => connectionError);
  await warnOfEviction(redis, logger, config.leaderElect === 'redis');
  return redis;
}

/**
 * The store, the line to the operator's own broker, and how a line to a broker a policy names is opened: each
 * with the same guarantees (atomic on the store's server, else claim-then-publish with durable claims).
 */
async function dispatchParts(
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
  broker: Broker,
  scope: OperatorScope,
  fenceKey: string,
) {
  const storeOptions: TaskStoreOptions = {
    keyPrefix: config.keyPrefix,
    operatorId: scope.id,
    ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }),
    fenceKey,
    durableClaims: { replicas: 1, timeoutMs: 2000, onlyWithReplicas: config.durableClaims === 'auto' },
  };
  const brokerDbOf = (url: string) =>
    config.redisCluster ? Promise.resolve(undefined) : sameServerBrokerDb(redis, url);
  const brokerDb = await brokerDbOf(config.brokerUrl);
  const store = new RedisTaskStore(redis, { ...storeOptions, brokerDb });
  /** A line over a connected broker; the store is viewed with the broker's database on its own server. */
  const lineOver = (url: string, lineBroker: Broker, db: number | undefined): BrokerLine => {
    const lineStore = db === brokerDb ? store : new RedisTaskStore(redis, { ...storeOptions, brokerDb: db });
    // Same server: claim and message are one write, nothing to wait for (docs/topologies.md).
    const durable = db === undefined && config.durableClaims !== 'off';
    const { dispatcher, close } = createDispatcher(lineStore, lineBroker, url, db, durable);
    return {
      dispatcher,
      revoke: (taskIds) => lineBroker.revoke(taskIds),
      close: async () => {
        close();
        await lineBroker.close();
      },
    };
  };
  const openLine = async (url: string): Promise<BrokerLine> => {
    try {
      const db = await brokerDbOf(url);
      const named = await createBroker(url, brokerConnection(url, readOnlyNotice(logger, 'broker')));
      logger.info({ broker: redactUrl(url), atomic: db !== undefined }, 'broker line opened');
      return lineOver(url, named, db);
    } catch (error) {
      throw new Error(withoutSecrets((error as Error).message, url));
    }
  };
  const line = lineOver(config.brokerUrl, broker, brokerDb);
  return {
    store,
    line,
    openLine,
    atomic: brokerDb !== undefined,
    durableClaims: brokerDb === undefined && config.durableClaims !== 'off',
  };
}

/** A client's error message with the URL it was given, and that URL's password, redacted. */
function withoutSecrets(message: string, url: string): string {
  let text = message.replaceAll(url, redactUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password !== '') text = text.replaceAll(password, '***');
  } catch {
    // Not a single-host URL: the redaction of the whole URL above is all there is.
  }
  return text;
}

/**
 * The leader's work, each owner once: the reconciler (definitions), the beat (run state), the status
 * projection (status), the manual runs, and the operator that runs them while this replica leads.
 */
function leaderWork(
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
  mode: ModeParts,
  projection: StatusProjection,
  dispatch: Awaited<ReturnType<typeof dispatchParts>>,
  results: ReturnType<typeof resultsParts> | undefined,
  exitNow: (code: number) => void,
) {
  const { source: tasks, status, events, leadership } = mode;
  const { store } = dispatch;
  // Tasks reach the reconciler with the policies of their namespaces (and the Secrets of the brokers they
  // name), and again when those change.
  const secrets = new BrokerSecrets(mode.policies, mode.secrets, { logger });
  const policies = new PolicyBook(secrets);
  const routes = new BrokerRoutes({ book: policies, secrets, checkUrl: brokerUrlProblem });
  const brokers = new BrokerRegistry(config.brokerUrl, dispatch.line, dispatch.openLine, logger);
  // Every run, scheduled or manual, goes to its namespace's broker through one dispatcher.
  const dispatcher = new RoutedDispatcher(routes, brokers);
  const source = withPolicies(tasks, secrets, policies, () => brokers.retain(routes.named()));
  const manualRuns = new ManualRuns({
    record: new RedisManualRunRecord(redis, (key) => store.redisKey(key)),
    dispatcher,
    fenceToken: () => leadership.token,
    counted: (key, state) => beat.adopt(key, state),
    status: projection.manualRuns(),
    logger,
    maxBackfill: config.maxBackfill,
    ...(results ? { runs: results.tracker } : {}),
  });
  const beat = new Beat({
    unrun: (key, range) => manualRuns.unrun(key, range),
    // The reconciler writes definitions, a vanished key's included: the beat only says which.
    keyMissing: (key) => operator.rewriteKey(key),
    maxBackfill: config.maxBackfill,
    runsPerSecond: (namespace) => policies.runsPerSecond(namespace),
    dispatcher,
    logger,
    fenceToken: () => leadership.token,
    listener: projection.beatListener(events, () => void leadership.confirm(), results?.tracker),
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
    fenceToken: () => leadership.token,
    ...(config.redisSchedules ? { handWritten: store } : {}),
    policies,
    brokers: routes,
  });
  const operator = new Operator({
    source,
    reconciler,
    beat,
    leadership,
    status,
    logger,
    resyncMs: config.resyncMs,
    onLeadershipLost: () => exitNow(1),
  });
  return { operator, beat, manualRuns, brokers, dispatcher };
}

/** The metrics and the health probes (a stuck lease renewal, a dispatch stall; readiness: the source synced). */
async function serveProbes(
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
  leadership: Leadership,
  leader: ReturnType<typeof leaderWork>,
) {
  const metrics = await startMetricsServer(parseListenAddress(config.metricsAddr), registry);
  const health = await startHealthServer(parseListenAddress(config.healthAddr), {
    healthz: {
      leadership: () => leadership.healthy(),
      dispatch: dispatchStallCheck({
        stall: () => leader.beat.stall(),
        leading: () => leader.operator.leading,
        ping: () => redis.ping(),
        timeoutMs: config.dispatchStallTimeoutMs,
      }),
    },
    readyz: { source: () => leader.operator.ready() || 'PeriodicTasks not synced yet' },
  });
  logger.info({ metricsPort: metrics.port, healthPort: health.port }, 'serving metrics and health probes');
  return { metrics, health };
}

interface ModeParts {
  source: TaskSource;
  /** The PeriodicTaskPolicies: the cluster's, or the manifest directory's. */
  policies: PolicySource;
  /** Where the Secrets of the brokers policies name are read: the operator's namespace, or --secrets-dir. */
  secrets: SecretLookup;
  status: StatusSink;
  events: TaskEvents;
  leadership: Leadership;
  /** What makes the replicas one operator, its id unless --operator-id is given. */
  group: string;
  /** The key that fences the leader's writes: the Lease epoch, or the Redis leader lock. */
  fenceKey: string;
}

/** The cluster's parts; the Kubernetes client is loaded here only, so standalone mode never loads it. */
async function kubernetesParts(config: RunConfig, logger: Logger, redis: StoreRedis): Promise<ModeParts> {
  const { loadKubeConnection, NoKubeConfigError, operatorNamespace } = await import(
    '../kube/kube-connection.ts'
  );
  const { KubeClient } = await import('../kube/kube-client.ts');
  const { KubeSecretLookup } = await import('../kube/secret-lookup.ts');
  let connection: ReturnType<typeof loadKubeConnection>;
  try {
    connection = loadKubeConnection({ ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}) });
  } catch (error) {
    if (error instanceof NoKubeConfigError)
      throw new Error(`${error.message} (or use --manifests DIR for standalone mode)`);
    throw error;
  }
  const api = new KubeClient(connection);
  const informer = new PeriodicTaskInformer(api, { namespace: config.namespace, logger });
  const policies = new PolicyReader(api, { logger });
  // Secrets only ever from the operator's own namespace (the chart's Role there).
  const secrets = new KubeSecretLookup(api, operatorNamespace(connection));
  const status = new StatusWriter(statusPatcher(api), {
    logger,
    currentStatus: (namespace, name) => informer.get(taskKey(namespace, name)),
    qps: config.kubeApiQps,
    burst: config.kubeApiBurst,
  });
  const events = new EventRecorder(api, { logger, reportingInstance: defaultIdentity() });
  const leaseNamespace = config.leaseNamespace ?? operatorNamespace(connection);
  // The Lease's namespace and name: the chart's release.
  const group = `${leaseNamespace}/${config.leaseName}`;
  if (config.leaderElect !== 'lease') {
    const leadership = leadershipWithoutApi(config, logger, redis);
    return {
      source: informer,
      policies,
      secrets,
      status,
      events,
      leadership,
      group,
      fenceKey: leaderLockKey(config.keyPrefix),
    };
  }
  // The epoch belongs to this operator's replicas alone (docs/sharing-redis.md).
  const fenceKey = leaseEpochKey(config.keyPrefix, config.operatorId ?? group);
  const leadership = new LeaseLeadership(api, leaseNamespace, logger, {
    epoch: new RedisEpochRecord(redis, fenceKey),
    timings: config.lease,
    name: config.leaseName,
    ...(config.holdOverLimitMs === undefined ? {} : { holdOverLimitMs: config.holdOverLimitMs }),
  });
  return { source: informer, policies, secrets, status, events, leadership, group, fenceKey };
}

function standaloneParts(config: RunConfig, logger: Logger, redis: StoreRedis): ModeParts {
  const source = new ManifestDirectorySource(config.manifests!, logger);
  const status = new LogStatusSink(logger);
  // Whoever reports a problem has logged it already: the log is standalone mode's only event stream.
  const events: TaskEvents = { warning: () => {}, normal: () => {} };
  const leadership = leadershipWithoutApi(config, logger, redis);
  const lockKey = leaderLockKey(config.keyPrefix);
  return {
    source,
    policies: source.policySource,
    secrets: new SecretFiles(config.secretsDir),
    status,
    events,
    leadership,
    group: lockKey,
    fenceKey: lockKey,
  };
}

/**
 * The operator's keys on the Redis (docs/sharing-redis.md). Standalone mode reads the manifests of every
 * namespace, so its scope is all of them.
 */
function operatorScope(config: RunConfig, parts: ModeParts): OperatorScope {
  const namespace = config.manifests ? undefined : config.namespace;
  return {
    id: config.operatorId ?? parts.group,
    keyPrefix: config.keyPrefix,
    ...(namespace === undefined ? {} : { namespace }),
  };
}

/** Registers the operator on the Redis, or fails the start when a live neighbour's scope overlaps. */
async function registerOperator(redis: StoreRedis, scope: OperatorScope, logger: Logger) {
  const registry = new OperatorRegistry(redis, scope);
  await registry.register();
  registry.start(
    (message) => logger.error({ operator: scope.id }, message),
    (error) => logger.warn({ err: error }, 'refreshing the operator registry failed; retrying'),
  );
  logger.info(
    { operator: scope.id, keyPrefix: scope.keyPrefix, namespace: scope.namespace ?? '' },
    'registered on the Redis',
  );
  return { registry, scope };
}

/** --result-backend: runs are followed to their results, and Forbid/Replace keep them from overlapping. */
function resultsParts(
  config: RunConfig,
  logger: Logger,
  redis: StoreRedis,
  revoke: OverlapGuard['revoke'],
  projection: StatusProjection,
  finished: RunOutcomeListener,
) {
  const backend = new RedisResultBackend(config.resultBackend!);
  const tracker = new RunTracker({
    backend,
    results: projection,
    finished,
    logger,
    history: new RedisHistoryStore(redis, config.keyPrefix),
  });
  return {
    tracker,
    guard: new ResultOverlapGuard(backend, revoke),
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

/** Waits between attempts to reach Redis at start: soon at first, then every few seconds. */
const REDIS_WAIT_BACKOFF = { initialMs: 1000, maxMs: 5000 };

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
      const retryInMs = backoffDelay(attempt, REDIS_WAIT_BACKOFF);
      logger.warn(
        { redis: redactUrl(url), attempt, reason, retryInMs },
        'Redis is not reachable yet; retrying',
      );
      await sleep(retryInMs);
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

/** Why a URL read from a policy's Secret cannot be a broker URL, or undefined; never repeats a password. */
function brokerUrlProblem(url: string): string | undefined {
  try {
    if (isRedisUrl(url)) parseRedisUrl(url);
    else brokerScheme(url);
    return undefined;
  } catch (error) {
    return withoutSecrets((error as Error).message, url);
  }
}

/** A Redis broker's connection read from its URL (Sentinels, TLS files); nothing for AMQP. */
function brokerConnection(brokerUrl: string, onReadOnly?: ReadOnlyListener): { redis?: RedisOptions } {
  return isRedisUrl(brokerUrl) ? { redis: connectionOptions(parseRedisUrl(brokerUrl), {}, onReadOnly) } : {};
}

/** The dispatcher, and what closes the connection it opened to read the broker's routes (none for AMQP). */
function createDispatcher(
  store: RedisTaskStore,
  broker: Broker,
  brokerUrl: string,
  brokerDb: number | undefined,
  durableClaims: boolean,
): { dispatcher: SlotDispatcher; close: () => void } {
  if (brokerDb === undefined) {
    return { dispatcher: new ClaimThenPublishDispatcher(store, broker, { durableClaims }), close: () => {} };
  }
  const routingRedis = new Redis({ ...brokerConnection(brokerUrl).redis, maxRetriesPerRequest: 2 });
  // Connection errors surface as failed publishes of the slots concerned, which are retried.
  routingRedis.on('error', () => {});
  const dispatcher = new AtomicRedisDispatcher(
    store,
    {
      listKeys: (options) => resolveRedisRoutes(routingRedis, options),
      envelope: (message, options) => encodeRedisEnvelope(message, redisRouteFor(options)),
    },
    broker,
  );
  return { dispatcher, close: () => routingRedis.disconnect() };
}
