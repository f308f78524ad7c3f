// The beat benchmark: N interval schedules every second, published to a private Redis by the operator and
// then by Celery 5.2.6 beat (Debian's python3-celery) on the same Redis in the same run. Prints a table of
// dispatches per second, lateness, CPU seconds and peak RSS, the ratio, and writes an SVG chart.
// With --cron-share, that part of the N are `cron: "* * * * *"` tasks in Europe/Berlin (Celery beat: crontab
// entries in that zone), all due at each minute; the operator's run holds a minute and reports that burst.
//   node test/bench/beat.bench.ts [--sizes 1000,10000,100000] [--seconds 15] [--cron-share 0.5] [--svg FILE]
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '../support/redis-server.ts';
import { renderBarChart } from './bar-chart.ts';
import { spawnCeleryBeat } from './celery-beat-process.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    seconds: { type: 'string', default: '15' },
    'cron-share': { type: 'string', default: '0' },
    svg: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const cronShare = Number(values['cron-share']);
const here = fileURLToPath(new URL('.', import.meta.url));

interface Result {
  dispatchesPerSecond: number;
  heapPerScheduleBytes?: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  /** With a cron share: the cron tasks' runs in the window, and their lateness after the minute. */
  cronRuns?: number;
  cronLatenessP99Ms?: number;
  cronLatenessMaxMs?: number;
  cpuSeconds: number;
  peakRssMb: number;
}

async function operatorRun(url: string, size: number): Promise<Result> {
  const { stdout } = await run(
    process.execPath,
    [join(here, 'beat-operator-run.ts'), url, String(size), String(seconds), String(cronShare)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Result;
}

/** Reads a process's CPU seconds and peak RSS from /proc before it is stopped. */
async function procUsage(pid: number): Promise<{ cpuSeconds: number; peakRssMb: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, peakRssMb: hwmKb / 1024 };
}

async function celeryRun(url: string, size: number, redis: Redis): Promise<Result> {
  const queue = `bench-celery-${size}`;
  const dir = await mkdtemp(join(tmpdir(), 'celery-beat-bench-'));
  const child = spawnCeleryBeat({
    brokerUrl: url,
    schedules: size,
    queue,
    scheduleFile: join(dir, 'schedule'),
    cronShare,
  });
  // Celery beat sends each entry first one interval after start: measure from the first message on.
  const started = Date.now();
  while ((await redis.llen(queue)) === 0 && Date.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const from = Date.now();
  const countFrom = await redis.llen(queue);
  await new Promise((r) => setTimeout(r, Math.max(0, seconds * 1000 - (from - started))));
  const count = (await redis.llen(queue)) - countFrom;
  const elapsed = (Date.now() - from) / 1000;
  const usage = await procUsage(child.pid!);
  child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
  await redis.del(queue);
  return {
    dispatchesPerSecond: count / elapsed,
    latenessP50Ms: Number.NaN,
    latenessP99Ms: Number.NaN,
    ...usage,
  };
}

const server = await startRedisServer();
const redis = new Redis(server.url);
const rows: Array<{ size: number; operator: Result; celery: Result }> = [];
try {
  for (const size of sizes) {
    await redis.flushall();
    const operator = await operatorRun(server.url, size);
    await redis.flushall();
    const celery = await celeryRun(server.url, size, redis);
    rows.push({ size, operator, celery });
    process.stderr.write(`${size} schedules done\n`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}

const f = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const best = (pick: (r: (typeof rows)[number]) => Result): number =>
  Math.max(...rows.map((r) => pick(r).dispatchesPerSecond));
const lines = [
  cronShare > 0
    ? `Beat benchmark: N schedules, ${Math.round(cronShare * 100)} % of them cron "* * * * *" in Europe/Berlin (due together each minute) and the rest intervals every 1 s, ${seconds} s per run holding a minute, private`
    : `Beat benchmark: N interval schedules every 1 s (a demand of N dispatches/s), ${seconds} s per run, private`,
  'redis-server, this machine. Operator: reconciler → Redis store → beat → Redis broker, every run recorded in',
  'Redis (last_run_at, total_run_count, last_task_id). Lateness: publish time minus slot, steady state.',
  '',
  '| schedules | operator dispatches/s | Celery beat dispatches/s | ratio | operator lateness p50 / p99 (ms) | operator CPU s | Celery CPU s | operator heap per schedule (B) | operator peak RSS (MB) | Celery peak RSS (MB) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    ({ size, operator: o, celery: c }) =>
      `| ${size} | ${f(o.dispatchesPerSecond)} | ${f(c.dispatchesPerSecond)} | ${c.dispatchesPerSecond > 0 ? `${f(o.dispatchesPerSecond / c.dispatchesPerSecond, 1)}×` : '∞ (Celery sent nothing)'} | ${f(o.latenessP50Ms, 1)} / ${f(o.latenessP99Ms, 1)} | ${f(o.cpuSeconds, 1)} | ${f(c.cpuSeconds, 1)} | ${f(o.heapPerScheduleBytes ?? Number.NaN)} | ${f(o.peakRssMb)} | ${f(c.peakRssMb)} |`,
  ),
  ...(cronShare > 0
    ? [
        '',
        '| schedules | cron tasks due at the minute | operator cron runs sent | cron lateness p99 / max (ms) | operator interval lateness p99 (ms) |',
        '| ---: | ---: | ---: | ---: | ---: |',
        ...rows.map(
          ({ size, operator: o }) =>
            `| ${size} | ${Math.round(size * cronShare)} | ${o.cronRuns ?? 0} | ${f(o.cronLatenessP99Ms ?? Number.NaN)} / ${f(o.cronLatenessMaxMs ?? Number.NaN)} | ${f(o.latenessP99Ms)} |`,
        ),
      ]
    : []),
  '',
  `Highest rate reached: operator ${f(best((r) => r.operator))}/s, Celery beat ${f(best((r) => r.celery))}/s: ` +
    `${f(best((r) => r.operator) / best((r) => r.celery), 1)}× (where the demand exceeds what one can send, its rate is its capacity).`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (values.svg) {
  await writeFile(
    values.svg,
    renderBarChart({
      title: 'Dispatches per second (N schedules every second)',
      groups: rows.map((r) => `${r.size.toLocaleString('en-US')} schedules`),
      series: [
        { name: 'celerybeat-operator', values: rows.map((r) => r.operator.dispatchesPerSecond) },
        { name: 'Celery 5.2.6 beat', values: rows.map((r) => r.celery.dispatchesPerSecond) },
      ],
    }),
  );
}
