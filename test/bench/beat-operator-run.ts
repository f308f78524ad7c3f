// One measured run of the operator's core (reconciler → store → beat → Redis broker, full per-run accounting)
// with N interval schedules every second, in its own process, under the heap rules the command runs with.
// With a cron share, that part of the N are `cron: "* * * * *"` tasks in Europe/Berlin instead: all due at
// each minute, so the run is placed to hold a minute in its middle, and their burst is reported apart.
// Prints one JSON line of results.
//   node test/bench/beat-operator-run.ts <redis-url> <schedules> <seconds> [<cron share, 0-1>]
import { Redis } from 'ioredis';
import type { PeriodicTask } from '../../src/api/types.ts';
import { Beat } from '../../src/beat/beat.ts';
import { AtomicRedisDispatcher } from '../../src/beat/slot-dispatcher.ts';
import { createBroker } from '../../src/celery/broker.ts';
import { encodeRedisEnvelope, redisRouteFor, resolveRedisRoutes } from '../../src/celery/redis-transport.ts';
import { Reconciler } from '../../src/controller/reconciler.ts';
import { tuneHeapForSize } from '../../src/observe/heap-tuning.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { RedisTaskStore } from '../../src/store/task-store.ts';

const [url = 'redis://127.0.0.1:6379/0', countText = '1000', secondsText = '10', shareText = '0'] =
  process.argv.slice(2);
const count = Number(countText);
const cronCount = Math.round(count * Number(shareText));
const seconds = Number(secondsText);
const queue = 'bench-operator';
tuneHeapForSize();

// Live heap per schedule: heap after loading N tasks minus the heap before, both after a full GC.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const logger = createLogger('warn');
const redis = new Redis(url);
const broker = await createBroker(url);
const store = new RedisTaskStore(redis, { keyPrefix: 'bench:', brokerDb: redis.options.db ?? 0 });
const dispatcher = new AtomicRedisDispatcher(
  store,
  {
    listKeys: (options) => resolveRedisRoutes(redis, options),
    envelope: (message, options) => encodeRedisEnvelope(message, redisRouteFor(options)),
  },
  broker,
);
const latenessMs: number[] = [];
const cronLatenessMs: number[] = [];
let dispatches = 0;
// Lateness is measured in the steady state: the first seconds hold the backlog of loading N tasks at once.
const WARM_UP_MS = 2000;
let measureFrom = Number.POSITIVE_INFINITY;
const beat = new Beat({
  dispatcher,
  logger,
  listener: {
    recorded: (_def, state) => {
      // A record whose cursor is its last run's slot is a run (not only missed slots being counted).
      if (state.lastTaskSlot === null || state.lastTaskSlot !== state.cursor) return;
      if (state.lastTaskSlot < measureFrom) return;
      dispatches += 1;
      const lateness = Date.now() - state.lastTaskSlot;
      if (_def.schedule.kind === 'cron') cronLatenessMs.push(lateness);
      else latenessMs.push(lateness);
    },
    rejected: () => {},
    fenced: () => {},
  },
});
const sink = { report: () => {}, flush: async () => {} };
const reconciler = new Reconciler({
  store,
  beat,
  status: sink,
  events: { warning: () => {}, normal: () => {} },
  logger,
  defaultTimeZone: 'UTC',
});
// Slots spread evenly over each second (startTime offsets), as tasks created at different times would be.
const gridStart = Math.ceil(Date.now() / 1000) * 1000;
const tasks: PeriodicTask[] = Array.from({ length: count }, (_, i) => ({
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTask',
  metadata: { name: `task-${i}`, namespace: 'bench', uid: `uid-${i}`, generation: 1 },
  spec: {
    task: 'tasks.record',
    ...(i < cronCount
      ? { cron: '* * * * *', timeZone: 'Europe/Berlin' }
      : {
          interval: { every: 1, period: 'seconds' as const },
          startTime: new Date(gridStart + Math.floor((i * 1000) / count)).toISOString(),
        }),
    args: [i],
    options: { queue },
  },
}));

const loadStart = performance.now();
await reconciler.reconcile(tasks);
const loadSeconds = (performance.now() - loadStart) / 1000;
gc?.();
const heapPerScheduleBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
if (cronCount > 0) {
  // A minute in the middle of the measured window: the cron burst falls inside it. What fell due while
  // waiting goes out as one catch-up per task in the warm-up, which is not measured.
  const minute = Math.ceil((Date.now() + WARM_UP_MS + (seconds * 1000) / 2) / 60_000) * 60_000;
  await new Promise((r) => setTimeout(r, minute - (seconds * 1000) / 2 - Date.now()));
}
const cpuStart = process.cpuUsage();
const start = performance.now();
measureFrom = Date.now() + WARM_UP_MS;
beat.start();
await new Promise((r) => setTimeout(r, seconds * 1000));
await beat.stop();
const elapsed = (performance.now() - start - WARM_UP_MS) / 1000;
const cpu = process.cpuUsage(cpuStart);
latenessMs.sort((a, b) => a - b);
cronLatenessMs.sort((a, b) => a - b);
const pct = (p: number, of = latenessMs): number =>
  of[Math.min(of.length - 1, Math.floor(p * of.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    schedules: count,
    loadSeconds,
    dispatches,
    dispatchesPerSecond: dispatches / elapsed,
    heapPerScheduleBytes,
    latenessP50Ms: pct(0.5),
    latenessP99Ms: pct(0.99),
    ...(cronCount > 0
      ? {
          cronSchedules: cronCount,
          cronRuns: cronLatenessMs.length,
          cronLatenessP50Ms: pct(0.5, cronLatenessMs),
          cronLatenessP99Ms: pct(0.99, cronLatenessMs),
          cronLatenessMaxMs: cronLatenessMs.at(-1) ?? NaN,
        }
      : {}),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    queued: await redis.llen(queue),
  })}\n`,
);
redis.disconnect();
await broker.close();
process.exit(0);
