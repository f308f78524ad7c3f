// The real parts of a soak: an API server (and etcd) of its own from the test bed; a Sentinel-managed Redis store (a
// master, two replicas, three Sentinels); a RabbitMQ node of its own, which the operators reach through a TCP relay
// that can cut them off; Celery workers running the tasks, their results in a Redis of their own; and two operator
// replicas electing their leader with the Lease, each reaching the API server through a relay of its own that can
// be frozen (a partition, or the API server frozen for both). Parts that a fault kills are replaced; the killed
// ones stay listed so their records can be read at the end.
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'amqplib';
import { parse, stringify } from 'yaml';
import {
  type CeleryWorker,
  startCeleryWorker,
  type Execution as WorkerExecution,
} from '../support/celery-worker.ts';
import {
  type OperatorNamespace,
  operatorNamespace,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { uniqueQueueName } from '../support/rabbitmq.ts';
import { type RabbitMqNode, startRabbitMqNode } from '../support/rabbitmq-node.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { MASTER_NAME, type SentinelSet, startSentinelSet } from '../support/sentinel.ts';
import { type TcpRelay, tcpRelay } from '../support/tcp-relay.ts';
import { type ControlPlane, startControlPlane } from '../testbed/cluster.ts';
import type { Execution } from './history.ts';

/** Short Lease timings: a takeover within seconds, so a soak sees many. */
const OPERATOR_FLAGS = ['--lease-duration', '4', '--renew-deadline', '3', '--retry-period', '1'];

export interface SoakBed {
  /** A control plane of the soak's own, so that restarting its API server touches no other test. */
  readonly cluster: ControlPlane;
  readonly ns: OperatorNamespace;
  readonly sentinel: SentinelSet;
  readonly masterName: string;
  /** A RabbitMQ node of the soak's own, so that a resource alarm on it blocks no other test's publishes. */
  readonly broker: RabbitMqNode;
  /** The broker as the workers reach it. */
  readonly brokerUrl: string;
  /** The broker as the operators reach it. */
  readonly brokerRelay: TcpRelay;
  readonly queue: string;
  /** Live replicas, oldest first. */
  replicas(): OperatorProcess[];
  /** The relay through which a replica reaches the API server. */
  apiRelay(replica: OperatorProcess): TcpRelay;
  /** Starts a replica and waits until it serves its probes (its signal handlers are in place by then). */
  startReplica(): Promise<OperatorProcess>;
  /** The replica is alive, logged `became leader` and has not stepped down since. */
  leads(replica: OperatorProcess): boolean;
  /** The live replica that leads now: it logged `became leader` last and has not stepped down. */
  leader(): OperatorProcess | undefined;
  waitForLeader(what: string, notBefore?: number, timeoutMs?: number): Promise<OperatorProcess>;
  /** Live workers. */
  workers(): CeleryWorker[];
  startWorker(): Promise<CeleryWorker>;
  forget(part: OperatorProcess | CeleryWorker): void;
  /** SIGKILLs a worker, mid-task or not, and remembers when. */
  killWorker(worker: CeleryWorker): Promise<void>;
  /** Every replica's output, stopped ones included, by process id. */
  replicaOutputs(): Array<{ pid: number; output: string }>;
  /** What every worker ran, killed ones included, as the ledger reads it. */
  executions(): Promise<Execution[]>;
  stop(): Promise<void>;
}

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string } }>;
}

/** A copy of `kubeconfig` that reaches the API server through a new relay (TLS passes it untouched). */
async function relayedKubeconfig(kubeconfig: string): Promise<{ path: string; relay: TcpRelay }> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as Kubeconfig;
  const relay = await tcpRelay(Number(new URL(config.clusters[0]!.cluster.server).port));
  for (const { cluster } of config.clusters) {
    const server = new URL(cluster.server);
    server.port = String(relay.port);
    cluster.server = server.origin;
  }
  const path = `${kubeconfig}.relay-${relay.port}`;
  await writeFile(path, stringify(config), { mode: 0o600 });
  return { path, relay };
}

/**
 * Follows a replica's leadership from its log as the lines come: its kept output is capped, and a busy leader's
 * `task sent` lines would push its `became leader` line out of it.
 */
function followLeadership(replica: OperatorProcess): () => number | null {
  let since: number | null = null;
  let partial = '';
  replica.process.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"msg":"became leader"')) since = Date.parse(String(JSON.parse(line).time));
      else if (line.includes('"msg":"this replica no longer leads"')) since = null;
    }
  });
  return () => (replica.process.hasExited() ? null : since);
}

function toLedger(run: WorkerExecution, killedAt: number | null): Execution {
  const headers = run.request;
  return {
    task: String(headers.periodic_task_name),
    taskId: run.id,
    slot: Date.parse(String(headers.periodic_task_scheduled_at)),
    version: Number(run.args[0]),
    receivedAt: run.receivedAt,
    startedAt: run.startedAt,
    finished: run.outcome !== 'running',
    worker: run.hostname,
    workerKilledAt: killedAt,
  };
}

export async function startSoakBed(workerCount: number, kubeApiQps: number): Promise<SoakBed> {
  const cluster = await startControlPlane();
  const ns = await operatorNamespace(cluster, 'soak');
  const sentinel = await startSentinelSet();
  const queue = uniqueQueueName('soak');
  const broker = await startRabbitMqNode({
    label: 'soak',
    config: (_dir, port) => [`listeners.tcp.default = 127.0.0.1:${port}`],
    accepts: (node) =>
      connect(`amqp://guest:guest@127.0.0.1:${node.port}`).then(
        (conn) => conn.close().then(() => true),
        () => false,
      ),
  });
  const workerBrokerUrl = `amqp://guest:guest@127.0.0.1:${broker.port}`;
  const brokerRelay = await tcpRelay(broker.port);
  const brokerUrl = new URL(workerBrokerUrl);
  brokerUrl.port = String(brokerRelay.port);
  const live = { replicas: [] as OperatorProcess[], workers: [] as CeleryWorker[] };
  const everyWorker: CeleryWorker[] = [];
  const everyReplica: OperatorProcess[] = [];
  const killedAt = new Map<CeleryWorker, number>();
  const apiRelays = new Map<OperatorProcess, TcpRelay>();
  const leadership = new Map<OperatorProcess, () => number | null>();
  const leadsSince = (replica: OperatorProcess): number | null => leadership.get(replica)?.() ?? null;
  // Celery's result backend, apart from the store (no fault touches it): the operators read every run's result,
  // and concurrencyPolicy Forbid skips the slots that come while a run is going on.
  const results = await startRedisServer();
  const flags = [
    '--broker-url',
    brokerUrl.toString(),
    '--result-backend',
    results.url,
    ...OPERATOR_FLAGS,
    '--kube-api-qps',
    String(kubeApiQps),
    '--kube-api-burst',
    String(kubeApiQps * 2),
    '--log-level',
    'info',
  ];
  const bed: SoakBed = {
    cluster,
    ns,
    sentinel,
    masterName: MASTER_NAME,
    broker,
    brokerUrl: workerBrokerUrl,
    brokerRelay,
    queue,
    replicas: () => live.replicas.filter((r) => !r.process.hasExited()),
    apiRelay(replica) {
      const relay = apiRelays.get(replica);
      if (relay === undefined) throw new Error(`replica ${replica.process.child.pid} has no API relay`);
      return relay;
    },
    async startReplica() {
      const { path, relay } = await relayedKubeconfig(ns.kubeconfig);
      const replica = startClusterOperator({ ...ns, kubeconfig: path }, sentinel.url(0), flags);
      apiRelays.set(replica, relay);
      leadership.set(replica, followLeadership(replica));
      live.replicas.push(replica);
      everyReplica.push(replica);
      await replica.waitForLog('serving probes', (l) => typeof l.healthPort === 'number', 60_000);
      return replica;
    },
    leads: (replica) => leadsSince(replica) !== null,
    leader() {
      let found: OperatorProcess | undefined;
      let latest = -1;
      for (const replica of bed.replicas()) {
        const since = leadsSince(replica);
        if (since !== null && since > latest) [found, latest] = [replica, since];
      }
      return found;
    },
    async waitForLeader(what, notBefore = 0, timeoutMs = 90_000) {
      let found: OperatorProcess | undefined;
      await waitUntil(
        () =>
          `a leader (${what}); replicas' last lines:\n${bed
            .replicas()
            .map((r) => r.process.output().slice(-1500))
            .join('\n---\n')}`,
        () => {
          found = bed.leader();
          return found !== undefined && (leadsSince(found) ?? 0) >= notBefore;
        },
        timeoutMs,
        200,
      );
      return found!;
    },
    workers: () => [...live.workers],
    async startWorker() {
      const worker = await startCeleryWorker({
        brokerUrl: workerBrokerUrl,
        queues: [queue],
        env: { CELERY_TEST_RESULT_BACKEND: results.url },
        readyTimeoutMs: 120_000,
      });
      live.workers.push(worker);
      everyWorker.push(worker);
      return worker;
    },
    forget(part) {
      live.replicas = live.replicas.filter((r) => r !== part);
      live.workers = live.workers.filter((w) => w !== part);
    },
    async killWorker(worker) {
      killedAt.set(worker, Date.now());
      await worker.kill();
      bed.forget(worker);
    },
    replicaOutputs: () =>
      everyReplica.map((r) => ({ pid: r.process.child.pid ?? 0, output: r.process.output() })),
    async executions() {
      const all = await Promise.all(
        everyWorker.map(async (w) =>
          (await w.executions())
            .filter((run) => run.request.periodic_task_name !== undefined)
            .map((run) => toLedger(run, killedAt.get(w) ?? null)),
        ),
      );
      return all.flat();
    },
    async stop() {
      brokerRelay.accept();
      for (const relay of apiRelays.values()) relay.thaw();
      await Promise.all(everyReplica.map((r) => r.process.stop(15_000)));
      await Promise.all([...apiRelays.values()].map((relay) => relay.close()));
      await Promise.all(everyWorker.map((w) => w.stop()));
      await brokerRelay.close();
      await sentinel.stop();
      await broker.stop();
      await results.stop();
      await cluster.stop();
    },
  };
  try {
    for (let i = 0; i < workerCount; i++) await bed.startWorker();
    await bed.startReplica();
    await bed.waitForLeader('the first replica');
    await bed.startReplica();
  } catch (error) {
    await bed.stop();
    throw error;
  }
  return bed;
}
