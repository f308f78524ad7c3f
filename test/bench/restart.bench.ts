// Restarting standalone mode: the compiled operator with N interval schedules in manifest files (1,000 a file),
// the store's Redis as broker, first started on an empty Redis (a cold start), stopped, then started again after
// a downtime longer than the interval, with its keys in Redis, so every task is due at once. Celery 5.2.6 beat
// with the same entries, restarted with its schedule file after the same downtime, in the same run. Prints
// seconds from the process start until the first due run reached the broker and, for the operator, until the
// schedules were loaded from Redis and until the files were all read.
//   node test/bench/restart.bench.ts [--sizes 50000] [--every 30]
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { spawnCeleryBeat } from './celery-beat-process.ts';
import { buildOperator, spawnStandaloneOperator } from './compiled-operator.ts';
import { TASKS_PER_FILE, writeIntervalManifests } from './interval-manifests.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50000' },
    every: { type: 'string', default: '30' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const every = Number(values.every);
if (sizes.some((n) => !(Number.isInteger(n) && n > 0)) || !(every > 0)) {
  process.stderr.write('usage: restart.bench.ts [--sizes N,N…] [--every SECONDS]\n');
  process.exit(2);
}
/** Down longer than the interval: every schedule has a slot due when the process comes back. */
const downMs = (every + 2) * 1000;
const OPERATOR_QUEUE = 'bench-restart-operator';
const CELERY_QUEUE = 'bench-restart-celery';

/** Seconds from `since` until the queue first holds a message, polled every 5 ms. */
async function firstMessage(
  redis: Redis,
  queue: string,
  since: number,
  exited: () => boolean,
): Promise<number> {
  await waitUntil(
    `a first message on ${queue}`,
    async () => {
      if (exited()) throw new Error(`the process exited before a first message on ${queue}`);
      return (await redis.llen(queue)) > 0;
    },
    600_000,
    5,
  );
  return (Date.now() - since) / 1000;
}

/** The times (ms since `since`) at which the process first logged each message. */
function logTimes(child: ChildProcess, since: number): Map<string, number> {
  const seen = new Map<string, number>();
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
      if (msg !== undefined && !seen.has(msg)) seen.set(msg, Date.now() - since);
    }
  });
  return seen;
}

interface OperatorStart {
  firstRunSeconds: number;
  /** Until the tasks in Redis were handed to the beat (restart only). */
  loadedSeconds: number | null;
  filesReadSeconds: number;
}

const LOADED = 'dispatching the tasks in Redis while the source is read';

async function startOperatorOnce(
  url: string,
  manifests: string,
  redis: Redis,
  restart: boolean,
): Promise<OperatorStart> {
  await redis.del(OPERATOR_QUEUE);
  const since = Date.now();
  const { child, output } = spawnStandaloneOperator({
    manifests,
    redisUrl: url,
    logLevel: 'info',
    metricsPort: await freePort(),
    healthPort: await freePort(),
  });
  const seen = logTimes(child, since);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  try {
    const firstRunSeconds = await firstMessage(redis, OPERATOR_QUEUE, since, exited);
    await waitUntil(
      () => `the files read${restart ? ' and the keys loaded' : ''}\n${output()}`,
      () => {
        if (exited()) throw new Error(`operator exited:\n${output()}`);
        // A restart also says when it has handed every key in Redis to the beat (after its first runs, maybe).
        const loadedToo = restart ? seen.has(LOADED) : true;
        return seen.has('manifests read') && loadedToo;
      },
      600_000,
      50,
    );
    const loaded = seen.get(LOADED);
    return {
      firstRunSeconds,
      loadedSeconds: loaded === undefined ? null : loaded / 1000,
      filesReadSeconds: seen.get('manifests read')! / 1000,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (exited() ? resolve(undefined) : child.once('exit', resolve)));
  }
}

async function operatorRun(
  url: string,
  size: number,
  redis: Redis,
): Promise<{ cold: OperatorStart; restart: OperatorStart }> {
  const dir = await mkdtemp(join(tmpdir(), 'restart-bench-'));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  try {
    await writeIntervalManifests(manifests, {
      count: size,
      every,
      queue: OPERATOR_QUEUE,
      gridStart: Math.ceil(Date.now() / 1000) * 1000,
    });
    const cold = await startOperatorOnce(url, manifests, redis, false);
    const keys = (await redis.keys('tasks:meta:*')).length;
    if (keys < size) throw new Error(`${keys} keys in Redis after the cold start, not ${size}`);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const restart = await startOperatorOnce(url, manifests, redis, true);
    return { cold, restart };
  } finally {
    await redis.del(OPERATOR_QUEUE);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Celery beat started, run until its first sends (one interval after the start), stopped, and started again. */
async function celeryRun(
  url: string,
  size: number,
  redis: Redis,
): Promise<{ cold: number; restart: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'celery-restart-bench-'));
  const scheduleFile = join(dir, 'schedule');
  const once = async (): Promise<number> => {
    await redis.del(CELERY_QUEUE);
    const since = Date.now();
    const child = spawnCeleryBeat({
      brokerUrl: url,
      schedules: size,
      queue: CELERY_QUEUE,
      scheduleFile,
      every,
    });
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    try {
      return await firstMessage(redis, CELERY_QUEUE, since, exited);
    } finally {
      // SIGTERM: beat writes its schedule file (the last run of each entry) on the way out.
      child.kill('SIGTERM');
      await new Promise((resolve) => (exited() ? resolve(undefined) : child.once('exit', resolve)));
    }
  };
  try {
    const cold = await once();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const restart = await once();
    return { cold, restart };
  } finally {
    await redis.del(CELERY_QUEUE);
    await rm(dir, { recursive: true, force: true });
  }
}

buildOperator();
const server = await startRedisServer();
const redis = new Redis(server.url);
const lines = [
  `Restart benchmark: N interval schedules every ${every} s in manifest files of ${TASKS_PER_FILE}, standalone, the store's`,
  `Redis as broker; down ${downMs / 1000} s between stop and start, so every schedule is due at the restart.`,
  'Seconds from the process start. Celery 5.2.6 beat: the same entries, its schedule file kept (its cold start',
  'sends an entry first one interval after the start).',
  '',
  '| schedules | operator cold: first run / files read | operator restart: first run / loaded from Redis / files read | Celery beat restart: first run | restart first run ratio (Celery / operator) |',
  '| ---: | ---: | ---: | ---: | ---: |',
];
const s = (n: number | null): string => (n === null ? 'n/a' : n.toFixed(2));
try {
  for (const size of sizes) {
    await redis.flushall();
    const operator = await operatorRun(server.url, size, redis);
    await redis.flushall();
    const celery = await celeryRun(server.url, size, redis);
    const ratio = celery.restart / operator.restart.firstRunSeconds;
    lines.push(
      `| ${size.toLocaleString('en-US')} | ${s(operator.cold.firstRunSeconds)} / ${s(operator.cold.filesReadSeconds)} | ${s(operator.restart.firstRunSeconds)} / ${s(operator.restart.loadedSeconds)} / ${s(operator.restart.filesReadSeconds)} | ${s(celery.restart)} | ${ratio.toFixed(1)}× |`,
    );
    process.stderr.write(`restart: ${size} schedules done\n`);
  }
} finally {
  redis.disconnect();
  await server.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
