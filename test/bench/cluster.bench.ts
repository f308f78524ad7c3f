// The operator on the real test bed (etcd + kube-apiserver) with N PeriodicTasks (intervals from 10 s to 1 h),
// as the chart runs it: two replicas of the compiled command with Lease leader election, each with the
// chart's ServiceAccount permissions. Per size, on a fresh control plane and a private Redis:
//   1. load: `kubectl apply --server-side` in chunks; seconds from the apply's start until every Redis key
//      exists, every task was sent once, every status is written; the leader's resident size;
//   2. status lag at the higher --kube-api-qps (the leader), sampled over a steady window;
//   3. takeover: the leader is SIGKILLed; the standby (warm cache) waits out the Lease, then dispatches;
//   4. status lag at the lower --kube-api-qps (the standby, now leading);
//   5. cold start: the standby stopped (SIGTERM, Lease released), a fresh process with nothing cached.
// The API server, etcd and kubectl are measured alongside (CPU, resident size, etcd's database) to say
// which of them limits a step. Figures only: nothing here asserts a duration; a step that does not happen
// at all fails with what was seen.
//   node test/bench/cluster.bench.ts [--sizes 10000,100000] [--qps 20,200] [--lag-seconds 60]
//                                     [--chunk 1000] [--parallel 4] [--margin 60]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { operatorNamespace } from '../support/operator-cluster.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { startControlPlane } from '../testbed/cluster.ts';
import { applyInChunks, demandPerSecond, QueueDrain } from './cluster-load.ts';
import { ClusterOperator, metricValue } from './cluster-operator.ts';
import { buildOperator } from './compiled-operator.ts';
import { type FirstRunCounts, FirstRunLedger, KeyArrivals } from './first-runs.ts';
import {
  adminTls,
  apiServerMetrics,
  type ControlPlaneProcesses,
  controlPlaneProcesses,
  cpuSeconds,
  etcdMetrics,
  machineCpu,
  processStatus,
  sumSeries,
} from './process-figures.ts';
import { MemorySampler } from './process-memory.ts';
import { type AdminTls, PeriodicTaskTally } from './task-tally.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    qps: { type: 'string', default: '20,200' },
    'lag-seconds': { type: 'string', default: '60' },
    chunk: { type: 'string', default: '1000' },
    parallel: { type: 'string', default: '4' },
    margin: { type: 'string', default: '60' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const qpsValues = values.qps.split(',').map(Number);
if (
  sizes.some((n) => !(Number.isInteger(n) && n > 0)) ||
  qpsValues.length > 2 ||
  qpsValues.some((q) => !(q > 0))
) {
  process.stderr.write('usage: cluster.bench.ts [--sizes N,N…] [--qps LOW[,HIGH]] [--lag-seconds S] …\n');
  process.exit(2);
}
const qpsLow = Math.min(...qpsValues);
const qpsHigh = Math.max(...qpsValues);
const lagSeconds = Number(values['lag-seconds']);
const chunk = Number(values.chunk);
const parallel = Number(values.parallel);
const marginMs = Number(values.margin) * 1000;
const PUBLISHED = 'celerybeat_dispatches_total{result="published"}';
const WRITTEN = 'celerybeat_status_writes_total{result="written"}';
const SCHEDULED = 'celerybeat_schedules{state="scheduled"}';
/**
 * A count that does not move for this long has stopped: the step fails with what was seen. Long, because a
 * loaded leader can hold new tasks back for minutes (see the longest stretch without a new key).
 */
const STALL_MS = 1_200_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (text: string): void => void process.stderr.write(`cluster: ${text}\n`);

interface Lag {
  qps: number;
  median: number;
  max: number;
  last: number;
  writesPerSecond: number;
  dispatchesPerSecond: number;
}

interface Cpu {
  wallS: number;
  apiserver: number;
  etcd: number;
  kubectl: number;
  operators: number;
  bench: number;
  machineBusy: number;
}

interface ApiFigures {
  /** Mean duration of the server-side apply requests (ms) and how many. */
  applyMeanMs: number;
  applyCount: number;
  statusPatchMeanMs: number;
  statusPatchCount: number;
  /** Requests refused with 429 (API Priority and Fairness), all verbs. */
  rejected429: number;
}

interface Figures {
  size: number;
  demand: number;
  error?: string;
  applyS?: number;
  keysS?: number;
  dispatchedS?: number;
  onPlannedSlot?: number;
  /** Tasks whose key reached Redis after their planned first slot, and what became of them. */
  late?: FirstRunCounts;
  lastFirstSlotS?: number;
  observedS?: number;
  ranS?: number;
  latenessP99?: string;
  leaderPeakMb?: number;
  leaderSteadyMb?: number;
  standbyWarmMb?: number;
  lags: Lag[];
  leaseWaitS?: number;
  takeoverLoadedS?: number;
  takeoverDispatchS?: number;
  standbyPeakMb?: number;
  coldSyncedS?: number;
  coldLeaderS?: number;
  coldLoadedS?: number;
  coldDispatchS?: number;
  coldPeakMb?: number;
  /** Longest time between two increases of the Redis key count during the load (s). */
  longestKeyGapS?: number;
  /** The leader during the load: CPU cores, GC seconds, worst event-loop delay seen in its metrics. */
  leaderLoad?: { cores: number; gcS: number; loopDelayMaxS: number; loopDelayP99MaxS: number };
  applyCpu?: Cpu;
  statusCpu?: Cpu;
  api?: ApiFigures;
  apiserverRssMb?: number;
  apiserverPeakMb?: number;
  etcdRssMb?: number;
  etcdDbMb?: number;
  etcdDbInUseMb?: number;
  problems: string[];
}

/** Polls `read` until it reaches `target`; the moment it did. Fails when it stops moving for `stallMs`. */
async function reach(
  what: string,
  read: () => number | Promise<number>,
  target: number,
  options: {
    stallMs?: number;
    everyMs?: number;
    signal?: AbortSignal;
    context?: () => string | Promise<string>;
  } = {},
): Promise<number> {
  const stallMs = options.stallMs ?? STALL_MS;
  let best = Number.NEGATIVE_INFINITY;
  let movedAt = Date.now();
  for (;;) {
    if (options.signal?.aborted) throw new Error(`${what}: abandoned (another step failed)`);
    const value = await read();
    if (value >= target) return Date.now();
    if (value > best) {
      best = value;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs) {
      const context = options.context ? `; ${await options.context()}` : '';
      throw new Error(`${what}: ${value} of ${target}, unchanged for ${stallMs / 1000} s${context}`);
    }
    await sleep(options.everyMs ?? 500);
  }
}

async function cpuSnapshot(cp: ControlPlaneProcesses, operators: readonly ClusterOperator[]): Promise<Cpu> {
  const opCpu = await Promise.all(
    operators.map((o) => (o.hasExited() ? 0 : cpuSeconds(o.pid).catch(() => 0))),
  );
  return {
    wallS: Date.now() / 1000,
    apiserver: await cpuSeconds(cp.apiserverPid),
    etcd: await cpuSeconds(cp.etcdPid),
    kubectl: await cpuSeconds('self', true),
    operators: opCpu.reduce((a, b) => a + b, 0),
    bench: await cpuSeconds('self'),
    machineBusy: (await machineCpu()).busy,
  };
}

const cpuDelta = (a: Cpu, b: Cpu): Cpu => ({
  wallS: b.wallS - a.wallS,
  apiserver: b.apiserver - a.apiserver,
  etcd: b.etcd - a.etcd,
  kubectl: b.kubectl - a.kubectl,
  operators: b.operators - a.operators,
  bench: b.bench - a.bench,
  machineBusy: b.machineBusy - a.machineBusy,
});

function apiFigures(before: string, after: string): ApiFigures {
  const delta = (name: string, labels: Record<string, string>): number =>
    sumSeries(after, name, labels) - sumSeries(before, name, labels);
  const apply = { resource: 'periodictasks', verb: 'APPLY' };
  const status = { resource: 'periodictasks', subresource: 'status', verb: 'PATCH' };
  const applyCount = delta('apiserver_request_duration_seconds_count', apply);
  const statusPatchCount = delta('apiserver_request_duration_seconds_count', status);
  return {
    applyCount,
    applyMeanMs: (1000 * delta('apiserver_request_duration_seconds_sum', apply)) / applyCount,
    statusPatchCount,
    statusPatchMeanMs: (1000 * delta('apiserver_request_duration_seconds_sum', status)) / statusPatchCount,
    rejected429: delta('apiserver_request_total', { code: '429' }),
  };
}

/** The smallest bucket bound holding 99 % of the lateness histogram's observations. */
function latenessP99(metrics: string): string {
  const buckets = metrics
    .split('\n')
    .filter((l) => l.startsWith('celerybeat_dispatch_lateness_seconds_bucket{'))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)?.[1] ?? '', count: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
  const total = buckets.find((b) => b.le === '+Inf')?.count ?? 0;
  if (total === 0) return 'n/a';
  const bucket = buckets.find((b) => b.count >= 0.99 * total);
  return bucket?.le === '+Inf' ? '> 60 s' : `≤ ${Number(bucket?.le) * 1000} ms`;
}

/** A counter's value; a series not exposed yet (nothing counted) is 0. */
function counter(metrics: string, series: string): number {
  const value = metricValue(metrics, series);
  return Number.isNaN(value) ? 0 : value;
}

async function sampleLag(operator: ClusterOperator, qps: number): Promise<Lag> {
  const samples: number[] = [];
  const first = await operator.metrics();
  const from = Date.now();
  let last = first;
  // A measuring window, not a wait for a condition: the gauge is read once a second for its length.
  while (Date.now() - from < lagSeconds * 1000) {
    await sleep(1000);
    operator.assertRunning();
    last = await operator.metrics();
    samples.push(metricValue(last, 'celerybeat_status_lag_seconds'));
  }
  const seconds = (Date.now() - from) / 1000;
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    qps,
    median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    last: samples.at(-1) ?? Number.NaN,
    writesPerSecond: (counter(last, WRITTEN) - counter(first, WRITTEN)) / seconds,
    dispatchesPerSecond: (counter(last, PUBLISHED) - counter(first, PUBLISHED)) / seconds,
  };
}

/** Resolves with the first line of `msg` (and its time) the operator logs; fails if it exits or `timeoutMs` passes. */
async function logged(
  operator: ClusterOperator,
  msg: string,
  timeoutMs: number,
  match: (line: Record<string, unknown>) => boolean = () => true,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = operator.lines(msg).find((l) => match(l.line));
    if (found) return typeof found.line.time === 'number' ? found.line.time : found.readAt;
    operator.assertRunning();
    if (Date.now() > deadline)
      throw new Error(`no "${msg}" line in ${timeoutMs / 1000} s from the ${operator.describe()}`);
    await sleep(100);
  }
}

async function metricReached(operator: ClusterOperator, series: string, target: number, what: string) {
  return reach(
    what,
    async () => {
      operator.assertRunning();
      return counter(await operator.metrics().catch(() => ''), series);
    },
    target,
    { everyMs: 100, context: () => operatorState(operator) },
  );
}

/** What an operator says about itself: its own metrics of the watch and reconcile, its warnings. */
async function operatorState(operator: ClusterOperator): Promise<string> {
  if (operator.hasExited()) return operator.describe();
  const metrics = await operator.metrics().catch((e: unknown) => `(metrics: ${(e as Error).message})`);
  const series = metrics
    .split('\n')
    .filter((l) =>
      /^celerybeat_(watch_restarts_total|watch_synced|reconcile_total|reconcile_errors_total|schedules|status_lag_seconds|status_writes_total|leader) /.test(
        l.replace(/\{[^}]*\}/, ''),
      ),
    )
    .join(', ');
  const rss = await processStatus(operator.pid).catch(() => undefined);
  return `${operator.label} operator (pid ${operator.pid}, RSS ${rss ? rss.rssMb.toFixed(0) : '?'} MB): ${series}; log: ${operator.messageSummary() || 'no warnings'}`;
}

function noteProblems(figures: Figures, operator: ClusterOperator): void {
  const { count } = operator.problems();
  const relists = operator.lines('PeriodicTask watch expired (410 Gone), relisting').length;
  if (count === 0 && relists === 0) return;
  figures.problems.push(`${operator.label} operator log: ${operator.messageSummary()}`);
}

async function runSize(size: number, figures: Figures): Promise<void> {
  const cluster = await startControlPlane();
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  const operators: ClusterOperator[] = [];
  let tally: PeriodicTaskTally | undefined;
  const drain = new QueueDrain(redis);
  let progress: NodeJS.Timeout | undefined;
  try {
    const cp = await controlPlaneProcesses(cluster.dir);
    const tls: AdminTls = await adminTls(cluster.dir, cluster.caPath);
    const ns = await operatorNamespace(cluster, 'bench');
    // The run may outlast the default hour of a token.
    const kubeconfig = await cluster.serviceAccountKubeConfig(ns.namespace, 'celerybeat-operator', 12 * 3600);
    tally = new PeriodicTaskTally(cluster.server, ns.namespace, tls);
    await tally.start();
    drain.start();
    const start = (label: string, qps: number): Promise<ClusterOperator> =>
      ClusterOperator.start({
        kubeconfig,
        namespace: ns.namespace,
        redisUrl: server.url,
        qps,
        burst: 2 * qps,
        label,
      }).then((o) => {
        operators.push(o);
        return o;
      });

    // Two replicas; the first one started leads.
    const leader = await start('leader', qpsHigh);
    await logged(leader, 'became leader', 60_000);
    const standby = await start('standby', qpsLow);
    await logged(standby, 'PeriodicTask cache synced', 60_000);
    const sampler = new MemorySampler(leader.pid);

    // 1. Load.
    log(`${size}: applying (${chunk} per kubectl call, ${parallel} at once)`);
    let applied = 0;
    let keys = 0;
    const apiBefore = await apiServerMetrics(cluster.server, tls);
    const cpuStart = await cpuSnapshot(cp, [leader, standby]);
    const leaderCpuStart = await cpuSeconds(leader.pid);
    const gc = (m: string): number => sumSeries(m, 'nodejs_gc_duration_seconds_sum');
    const gcStart = gc(await leader.metrics());
    let loopDelayMaxS = 0;
    let loopDelayP99MaxS = 0;
    // The gauges cover the time since the last scrape: read every 5 s, the worst of them is kept.
    const loopWatch = setInterval(() => {
      void leader
        .metrics()
        .then((m) => {
          loopDelayMaxS = Math.max(loopDelayMaxS, metricValue(m, 'nodejs_eventloop_lag_max_seconds') || 0);
          loopDelayP99MaxS = Math.max(
            loopDelayP99MaxS,
            metricValue(m, 'nodejs_eventloop_lag_p99_seconds') || 0,
          );
        })
        .catch(() => {});
    }, 5000);
    let lastKeyRise = 0;
    let longestKeyGap = 0;
    const t0 = Date.now();
    const since = (t: number): number => (t - t0) / 1000;
    const seen = (): string => {
      const c = tally!.counts();
      return `applied ${applied}, keys ${keys}, sent once ${drain.first.size}, status written ${c.observed}, status with a run ${c.ran} (of ${size})`;
    };
    let step = (): string => seen();
    progress = setInterval(() => log(`${size}: ${since(Date.now()).toFixed(0)} s: ${step()}`), 15_000);
    const abort = new AbortController();
    const context = async (): Promise<string> => {
      const parts = [seen()];
      if (tally?.lastError) parts.push(`benchmark's watch: ${tally.lastError}`);
      if (drain.lastError) parts.push(`queue drain: ${drain.lastError}`);
      for (const o of operators) parts.push(await operatorState(o));
      return parts.join('\n');
    };
    const alive = (): void => {
      for (const o of [leader, standby]) o.assertRunning();
    };
    let cpuApplied: Cpu | undefined;
    const ledger = new FirstRunLedger();
    const arrivals = new KeyArrivals(redis, `tasks:meta:${ns.namespace}/`, ledger);
    await Promise.all([
      applyInChunks(cluster, ns.namespace, size, {
        chunk,
        parallel,
        marginMs,
        ledger,
        onChunk: (n) => {
          applied = n;
        },
      }).then(async () => {
        figures.applyS = since(Date.now());
        cpuApplied = await cpuSnapshot(cp, [leader, standby]);
        figures.lastFirstSlotS = since(ledger.lastPlanned);
        log(`${size}: applied in ${figures.applyS.toFixed(1)} s`);
      }),
      reach(
        'every Redis key',
        async () => {
          alive();
          const now = await arrivals.scan();
          if (now > keys) {
            if (lastKeyRise > 0) longestKeyGap = Math.max(longestKeyGap, Date.now() - lastKeyRise);
            lastKeyRise = Date.now();
          }
          keys = now;
          figures.longestKeyGapS = longestKeyGap / 1000;
          return keys;
        },
        size,
        { everyMs: 1000, signal: abort.signal, context },
      ).then((t) => {
        figures.keysS = since(t);
      }),
      // A task whose key came after its planned first slot is awaited at its next one (up to an hour later)
      // and counts once it is ahead; a task whose key was in time but missed its slot is waited for.
      reach(
        'every task sent once (or, its key late, awaited at its next slot)',
        () => {
          alive();
          return drain.first.size + ledger.counts(drain.first, Date.now()).awaited;
        },
        size,
        { stallMs: 3600_000 + STALL_MS, signal: abort.signal, context },
      ).then((t) => {
        figures.dispatchedS = since(t);
      }),
      reach(
        'every status written (observedGeneration = generation)',
        () => {
          alive();
          return tally!.counts().observed;
        },
        size,
        { signal: abort.signal, context },
      ).then((t) => {
        figures.observedS = since(t);
      }),
      reach(
        'every status showing a run (totalRunCount >= 1; tasks whose key was late not waited for)',
        () => {
          alive();
          return tally!.counts().ran + ledger.lateWithout((name) => tally!.hasRun(name));
        },
        size,
        { stallMs: 3600_000 + STALL_MS, signal: abort.signal, context },
      ).then((t) => {
        figures.ranS = since(t);
      }),
    ]).finally(() => {
      abort.abort();
      clearInterval(loopWatch);
    });
    const cpuLoaded = await cpuSnapshot(cp, [leader, standby]);
    figures.leaderLoad = {
      cores:
        cpuLoaded.wallS > cpuStart.wallS
          ? ((await cpuSeconds(leader.pid)) - leaderCpuStart) / (cpuLoaded.wallS - cpuStart.wallS)
          : Number.NaN,
      gcS: gc(await leader.metrics()) - gcStart,
      loopDelayMaxS,
      loopDelayP99MaxS,
    };
    figures.applyCpu = cpuDelta(cpuStart, cpuApplied!);
    figures.statusCpu = cpuDelta(cpuApplied!, cpuLoaded);
    figures.api = apiFigures(apiBefore, await apiServerMetrics(cluster.server, tls));
    figures.onPlannedSlot = ledger.onPlanned(drain.first);
    figures.late = ledger.counts(drain.first, Date.now());
    log(`${size}: loaded: ${seen()}`);

    // 2. Status lag at the higher qps; the leader's steady resident size meanwhile.
    step = () => `sampling the status lag at qps ${qpsHigh}`;
    sampler.steadyFrom();
    figures.lags.push(await sampleLag(leader, qpsHigh));
    const memory = await sampler.finish();
    figures.leaderPeakMb = memory.peakRssMb;
    figures.leaderSteadyMb = memory.steadyRssMb;
    figures.latenessP99 = latenessP99(await leader.metrics());
    figures.standbyWarmMb = (await processStatus(standby.pid)).rssMb;
    const apiserver = await processStatus(cp.apiserverPid);
    figures.apiserverRssMb = apiserver.rssMb;
    figures.apiserverPeakMb = apiserver.hwmMb;
    figures.etcdRssMb = (await processStatus(cp.etcdPid)).rssMb;
    const etcd = await etcdMetrics(cp.etcdUrl);
    figures.etcdDbMb = sumSeries(etcd, 'etcd_mvcc_db_total_size_in_bytes') / 1024 / 1024;
    figures.etcdDbInUseMb = sumSeries(etcd, 'etcd_mvcc_db_total_size_in_use_in_bytes') / 1024 / 1024;

    // 3. Takeover by the standby (warm cache) after a SIGKILL of the leader.
    if (standby.lines('became leader').length > 0)
      throw new Error('the standby became leader during the load');
    log(`${size}: killing the leader`);
    step = () => 'takeover by the standby';
    const killedAt = Date.now();
    await leader.kill();
    const becameAt = await logged(standby, 'became leader', 120_000);
    figures.leaseWaitS = (becameAt - killedAt) / 1000;
    await Promise.all([
      metricReached(standby, SCHEDULED, size, 'every schedule loaded by the new leader').then((t) => {
        figures.takeoverLoadedS = (t - becameAt) / 1000;
      }),
      metricReached(standby, PUBLISHED, 1, 'the first run sent by the new leader').then((t) => {
        figures.takeoverDispatchS = (t - becameAt) / 1000;
      }),
    ]);
    log(`${size}: taken over`);

    // 4. Status lag at the lower qps, on the new leader.
    step = () => `sampling the status lag at qps ${qpsLow}`;
    if (qpsLow !== qpsHigh) figures.lags.push(await sampleLag(standby, qpsLow));
    figures.standbyPeakMb = (await processStatus(standby.pid)).hwmMb;

    // 5. Cold start: nothing cached, every task already in the API server and in Redis.
    await standby.stop();
    log(`${size}: cold start`);
    step = () => 'cold start';
    const coldAt = Date.now();
    const cold = await start('cold', qpsLow);
    await Promise.all([
      logged(cold, 'PeriodicTask cache synced', 600_000, (l) => l.count === size).then((t) => {
        figures.coldSyncedS = (t - coldAt) / 1000;
      }),
      logged(cold, 'became leader', 600_000).then((t) => {
        figures.coldLeaderS = (t - coldAt) / 1000;
      }),
      metricReached(cold, SCHEDULED, size, 'every schedule loaded after a cold start').then((t) => {
        figures.coldLoadedS = (t - coldAt) / 1000;
      }),
      metricReached(cold, PUBLISHED, 1, 'the first run sent after a cold start').then((t) => {
        figures.coldDispatchS = (t - coldAt) / 1000;
      }),
    ]);
    figures.coldPeakMb = (await processStatus(cold.pid)).hwmMb;
    await cold.stop();
    log(`${size}: done`);
  } finally {
    clearInterval(progress);
    for (const o of operators) noteProblems(figures, o);
    for (const o of operators) await o.kill();
    await tally?.stop();
    await drain.stop();
    redis.disconnect();
    await server.stop();
    await cluster.stop();
  }
}

buildOperator();
const results: Figures[] = [];
for (const size of sizes) {
  const figures: Figures = { size, demand: demandPerSecond(size), lags: [], problems: [] };
  results.push(figures);
  try {
    await runSize(size, figures);
  } catch (error) {
    figures.error = (error as Error).message;
    log(`${size}: FAILED: ${figures.error}`);
  }
}

const f = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const s = (n: number | undefined): string => f(n, 1);
const row = (label: string, cell: (r: Figures) => string): string =>
  `| ${label} | ${results.map(cell).join(' | ')} |`;
const lagCell = (r: Figures, qps: number): string => {
  const lag = r.lags.find((l) => l.qps === qps);
  return lag
    ? `${s(lag.median)} / ${s(lag.max)} (${f(lag.writesPerSecond)} writes/s; bound ${f(Math.max(10, r.size / qps))})`
    : '—';
};
const cores = (cpu: Cpu | undefined, pick: (c: Cpu) => number): string =>
  cpu ? `${f(pick(cpu))} (${f(pick(cpu) / cpu.wallS, 2)})` : '—';
const lines = [
  `Cluster benchmark: N PeriodicTasks (intervals 10 s to 1 h, log-uniform) on the test bed's kube-apiserver ` +
    `and etcd, two replicas of the compiled operator (Lease election with the chart's timings, 15/10/2 s; ` +
    `log level info), a private Redis as store and broker.`,
  '',
  `| | ${results.map((r) => `${f(r.size)} tasks`).join(' | ')} |`,
  `| --- | ${results.map(() => '---:').join(' | ')} |`,
  row('demand: runs/s (Σ 1/interval)', (r) => f(r.demand)),
  row(`kubectl apply (${f(chunk)} per call, ${parallel} at once): s`, (r) => s(r.applyS)),
  row('apply rate: objects/s', (r) => (r.applyS ? f(r.size / r.applyS) : '—')),
  row('every Redis key written: s after the apply started', (r) => s(r.keysS)),
  row('longest stretch without a new Redis key during the load: s', (r) => s(r.longestKeyGapS)),
  row('every task sent once: s (last planned first slot at)', (r) =>
    r.dispatchedS === undefined ? '—' : `${s(r.dispatchedS)} (${s(r.lastFirstSlotS)})`,
  ),
  row('tasks whose first run was their planned first slot', (r) =>
    r.onPlannedSlot === undefined ? '—' : `${f(r.onPlannedSlot)} of ${f(r.size)}`,
  ),
  row('tasks whose key came after their planned first slot: sent later / awaited at the end', (r) =>
    r.late === undefined ? '—' : `${f(r.late.late)}: ${f(r.late.lateSent)} / ${f(r.late.awaited)}`,
  ),
  row(`every status written (observedGeneration), qps ${qpsHigh}: s`, (r) => s(r.observedS)),
  row(`every status showing a run (totalRunCount ≥ 1), qps ${qpsHigh}: s`, (r) => s(r.ranS)),
  row('dispatch lateness p99 (leader, whole load)', (r) => r.latenessP99 ?? '—'),
  row('leader during the load: CPU cores / GC s / worst event-loop delay (max; p99) s', (r) =>
    r.leaderLoad
      ? `${f(r.leaderLoad.cores, 2)} / ${f(r.leaderLoad.gcS)} / ${s(r.leaderLoad.loopDelayMaxS)}; ${s(r.leaderLoad.loopDelayP99MaxS)}`
      : '—',
  ),
  row('leader resident size: peak / steady MB', (r) => `${f(r.leaderPeakMb)} / ${f(r.leaderSteadyMb)}`),
  row('standby (warm cache) resident size MB', (r) => f(r.standbyWarmMb)),
  ...[...new Set([qpsHigh, qpsLow])].map((qps) =>
    row(`status lag at qps ${qps}: median / max s (${lagSeconds} s window)`, (r) => lagCell(r, qps)),
  ),
  row(
    'runs sent/s while sampling the lag (leader, then new leader)',
    (r) => r.lags.map((l) => f(l.dispatchesPerSecond)).join(' / ') || '—',
  ),
  row('takeover: SIGKILL → standby leader (Lease expiry): s', (r) => s(r.leaseWaitS)),
  row('takeover: leader → every schedule loaded: s', (r) => s(r.takeoverLoadedS)),
  row('takeover: leader → first run sent: s', (r) => s(r.takeoverDispatchS)),
  row('new leader peak resident size MB', (r) => f(r.standbyPeakMb)),
  row('cold start → cache synced (list of every task): s', (r) => s(r.coldSyncedS)),
  row('cold start → leader: s', (r) => s(r.coldLeaderS)),
  row('cold start → every schedule loaded: s', (r) => s(r.coldLoadedS)),
  row('cold start → first run sent: s', (r) => s(r.coldDispatchS)),
  row('cold start peak resident size MB', (r) => f(r.coldPeakMb)),
  row('apply: CPU s (cores) kube-apiserver', (r) => cores(r.applyCpu, (c) => c.apiserver)),
  row('apply: CPU s (cores) etcd', (r) => cores(r.applyCpu, (c) => c.etcd)),
  row('apply: CPU s (cores) kubectl', (r) => cores(r.applyCpu, (c) => c.kubectl)),
  row('apply: CPU s (cores) both operators', (r) => cores(r.applyCpu, (c) => c.operators)),
  row('apply: CPU s (cores) this benchmark (watch, queue drain, Redis scans)', (r) =>
    cores(r.applyCpu, (c) => c.bench),
  ),
  row('apply: CPU s (cores) everything else (Redis, other processes)', (r) =>
    cores(r.applyCpu, (c) => c.machineBusy - c.apiserver - c.etcd - c.kubectl - c.operators - c.bench),
  ),
  row('apply: CPU s (cores) machine busy', (r) => cores(r.applyCpu, (c) => c.machineBusy)),
  row('apply → statuses: CPU s (cores) kube-apiserver / operators / machine', (r) =>
    r.statusCpu
      ? `${cores(r.statusCpu, (c) => c.apiserver)} / ${cores(r.statusCpu, (c) => c.operators)} / ${cores(r.statusCpu, (c) => c.machineBusy)}`
      : '—',
  ),
  row('API server: mean apply request ms', (r) => f(r.api?.applyMeanMs, 1)),
  row('API server: mean status patch ms (count)', (r) =>
    r.api ? `${f(r.api.statusPatchMeanMs, 1)} (${f(r.api.statusPatchCount)})` : '—',
  ),
  row('API server: requests refused 429', (r) => f(r.api?.rejected429)),
  row(
    'kube-apiserver resident size: now / peak MB',
    (r) => `${f(r.apiserverRssMb)} / ${f(r.apiserverPeakMb)}`,
  ),
  row(
    'etcd resident size MB; database size / in use MB',
    (r) =>
      `${f(r.etcdRssMb)}; ${f(r.etcdDbMb)} / ${f(r.etcdDbInUseMb)} (${f(((r.etcdDbInUseMb ?? Number.NaN) * 1024) / r.size, 1)} KB per task)`,
  ),
  '',
  `Times are seconds after the first kubectl call started, except where a step names its own start. ` +
    `Tasks are applied with \`kubectl apply --server-side\`, ${f(chunk)} per List, ${parallel} calls at once; ` +
    `each task's startTime puts its first slot ${values.margin} s + up to min(interval, 60 s) after the moment ` +
    'kubectl was expected to send it (its place in the List × the time per object of the last calls).',
  `"Sent once": the benchmark drains the Celery queue (every 250 ms) and notes each task's first message; ` +
    `"planned first slot": that message's periodic_task_scheduled_at is the slot its startTime gave it. A task ` +
    'whose Redis key first appeared (scanned every second) after that slot runs first at its next slot, up to ' +
    'an hour later: it is counted as awaited (not waited for) while that slot plus 60 s is ahead, and its ' +
    'status is not waited for.',
  `"Status written": status.observedGeneration = metadata.generation; "showing a run": status.totalRunCount ≥ 1; ` +
    `both counted from a watch of the PeriodicTasks. The leader writes statuses at --kube-api-qps ${qpsHigh} ` +
    `(burst ${2 * qpsHigh}), the standby at ${qpsLow} (burst ${2 * qpsLow}).`,
  `Status lag: celerybeat_status_lag_seconds (age of the oldest status update not yet written), read every second ` +
    `once every status showed a run (qps ${qpsHigh}, the first leader) and once the standby had taken over ` +
    `(qps ${qpsLow}); "bound" is the designed steady-state bound max(10 s, tasks / qps), reached only after ` +
    'that long.',
  'Resident sizes from /proc: peak VmHWM, steady the median VmRSS while the lag was sampled. Cold start: the ' +
    'standby stopped with SIGTERM (the Lease released), then a new process.',
  'CPU: seconds used during the step, and in brackets the cores that makes (seconds ÷ wall time); the machine ' +
    `has ${availableParallelism()} cores.`,
  ...results.flatMap((r) => [
    ...r.problems.map((p) => `${f(r.size)} tasks: ${p}`),
    ...(r.error ? [`${f(r.size)} tasks FAILED: ${r.error}`] : []),
  ]),
];
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = results.some((r) => r.error) ? 1 : 0;
