// Resident memory per schedule: the compiled operator (`celerybeat-operator run --manifests`, standalone, the
// store's Redis as broker) and then Celery 5.2.6 beat with the same N interval schedules every 10 s on the same
// private Redis, in the same run. Prints peak and steady resident size, the dispatch rate against the demand
// (N / 10 per second: whether each keeps up), and the ratios.
//   node test/bench/memory.bench.ts [--sizes 1000,10000,100000] [--seconds 40] [--every 10]
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { spawnCeleryBeat } from './celery-beat-process.ts';
import { buildOperator, spawnStandaloneOperator } from './compiled-operator.ts';
import { writeIntervalManifests } from './interval-manifests.ts';
import { type MemoryFigures, MemorySampler } from './process-memory.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    seconds: { type: 'string', default: '40' },
    every: { type: 'string', default: '10' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const every = Number(values.every);

interface Run extends MemoryFigures {
  dispatchesPerSecond: number;
  /** Seconds from start until every schedule was loaded (operator only). */
  loadSeconds?: number;
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function operatorRun(url: string, size: number, redis: Redis): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'memory-bench-'));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  await writeIntervalManifests(manifests, {
    count: size,
    every,
    queue: 'bench-operator',
    gridStart: Math.ceil(Date.now() / 1000) * 1000 + 5000,
  });
  const metricsPort = await freePort();
  const started = Date.now();
  const { child, output } = spawnStandaloneOperator({
    manifests,
    redisUrl: url,
    logLevel: 'warn',
    metricsPort,
    healthPort: await freePort(),
  });
  const metrics = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined))?.text() ?? '';
  const published = async (): Promise<number> =>
    metricValue(await metrics(), 'celerybeat_dispatches_total{result="published"}');
  // The queue is emptied as it fills: what Redis holds is not what is measured.
  const drain = setInterval(() => void redis.del('bench-operator').catch(() => {}), 1000);
  try {
    const sampler = new MemorySampler(child.pid!);
    await waitUntil(
      `${size} schedules loaded\n${output()}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`operator exited:\n${output()}`);
        return metricValue(await metrics(), 'celerybeat_schedules{state="scheduled"}') === size;
      },
      600_000,
      250,
    );
    const loadSeconds = (Date.now() - started) / 1000;
    // Steady state: a few seconds after the first slots, every schedule has run once.
    await new Promise((r) => setTimeout(r, Math.max(0, started + 5000 - Date.now()) + every * 1000));
    sampler.steadyFrom();
    const from = await published();
    const fromAt = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const count = (await published()) - from;
    const rate = count / ((Date.now() - fromAt) / 1000);
    return { ...(await sampler.finish()), dispatchesPerSecond: rate, loadSeconds };
  } finally {
    clearInterval(drain);
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

async function celeryRun(url: string, size: number, redis: Redis): Promise<Run> {
  const queue = `bench-celery-${size}`;
  const dir = await mkdtemp(join(tmpdir(), 'celery-memory-bench-'));
  const child = spawnCeleryBeat({
    brokerUrl: url,
    schedules: size,
    queue,
    scheduleFile: join(dir, 'schedule'),
    every,
  });
  try {
    const sampler = new MemorySampler(child.pid!);
    // Celery beat sends each entry first one interval after start.
    await new Promise((r) => setTimeout(r, every * 1000 + 2000));
    sampler.steadyFrom();
    const from = await redis.llen(queue);
    const fromAt = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const rate = ((await redis.llen(queue)) - from) / ((Date.now() - fromAt) / 1000);
    return { ...(await sampler.finish()), dispatchesPerSecond: rate };
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await redis.del(queue);
  }
}

buildOperator();
const server = await startRedisServer();
const redis = new Redis(server.url);
const rows: Array<{ size: number; operator: Run; celery: Run }> = [];
try {
  for (const size of sizes) {
    await redis.flushall();
    const operator = await operatorRun(server.url, size, redis);
    await redis.flushall();
    const celery = await celeryRun(server.url, size, redis);
    rows.push({ size, operator, celery });
    process.stderr.write(`memory: ${size} schedules done\n`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}

const f = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : 'n/a';
const keeps = (run: Run, size: number): string =>
  `${f(run.dispatchesPerSecond)}${run.dispatchesPerSecond >= 0.95 * (size / every) ? '' : ' (behind)'}`;
const lines = [
  `Memory benchmark: N interval schedules every ${every} s (a demand of N / ${every} dispatches/s), ${seconds} s`,
  'measured after every schedule has run once. Operator: the compiled `celerybeat-operator run --manifests`',
  '(standalone, every run recorded in Redis); Celery 5.2.6 beat with the same schedules on the same Redis.',
  'Peak: VmHWM (loading included); steady: median VmRSS while dispatching.',
  '',
  '| schedules | demand /s | operator dispatches/s | Celery beat dispatches/s | operator peak RSS (MB) | operator steady RSS (MB) | Celery beat peak RSS (MB) | Celery beat steady RSS (MB) | steady ratio (operator / Celery) | operator load s | operator CPU s | Celery CPU s |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    ({ size, operator: o, celery: c }) =>
      `| ${f(size)} | ${f(size / every)} | ${keeps(o, size)} | ${keeps(c, size)} | ${f(o.peakRssMb)} | ${f(o.steadyRssMb)} | ${f(c.peakRssMb)} | ${f(c.steadyRssMb)} | ${f(o.steadyRssMb / c.steadyRssMb, 2)}× | ${f(o.loadSeconds ?? Number.NaN, 1)} | ${f(o.cpuSeconds, 1)} | ${f(c.cpuSeconds, 1)} |`,
  ),
  '',
  rows.length > 1
    ? `Operator resident size per added schedule (steady, ${f(rows[0]!.size)} → ${f(rows.at(-1)!.size)}): ` +
      `${f(((rows.at(-1)!.operator.steadyRssMb - rows[0]!.operator.steadyRssMb) * 1024 * 1024) / (rows.at(-1)!.size - rows[0]!.size))} bytes; ` +
      `Celery beat: ${f(((rows.at(-1)!.celery.steadyRssMb - rows[0]!.celery.steadyRssMb) * 1024 * 1024) / (rows.at(-1)!.size - rows[0]!.size))} bytes.`
    : '',
];
process.stdout.write(`${lines.join('\n')}\n`);
