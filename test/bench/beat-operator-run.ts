// One measured run of the operator's core (reconciler → store → beat → Redis broker, full per-run accounting)
// with N interval schedules every second, in its own process, under the heap rules the command runs with.
// Prints one JSON line of results.
//   node test/bench/beat-operator-run.ts <redis-url> <schedules> <seconds>
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

const [url = 'redis://127.0.0.1:6379/0', countText = '1000', secondsText = '10'] = process.argv.slice(2);
const count = Number(countText);
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
let dispatches = 0;
// Lateness is measured in the steady state: the first seconds hold the backlog of loading N tasks at once.
const WARM_UP_MS = 2000;
let measureFrom = Number.POSITIVE_INFINITY;
const beat = new Beat({
  store,
  dispatcher,
  logger,
  listener: {
    recorded: (_def, state) => {
      // A record whose cursor is its last run's slot is a run (not only missed slots being counted).
      if (state.lastTaskSlot === null || state.lastTaskSlot !== state.cursor) return;
      if (state.lastTaskSlot < measureFrom) return;
      dispatches += 1;
      latenessMs.push(Date.now() - state.lastTaskSlot);
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
    interval: { every: 1, period: 'seconds' },
    startTime: new Date(gridStart + Math.floor((i * 1000) / count)).toISOString(),
    args: [i],
    options: { queue },
  },
}));

const loadStart = performance.now();
await reconciler.reconcile(tasks);
const loadSeconds = (performance.now() - loadStart) / 1000;
gc?.();
const heapPerScheduleBytes = (process.memoryUsage().heapUsed - heapBefore) / count;
const cpuStart = process.cpuUsage();
const start = performance.now();
measureFrom = Date.now() + WARM_UP_MS;
beat.start();
await new Promise((r) => setTimeout(r, seconds * 1000));
await beat.stop();
const elapsed = (performance.now() - start - WARM_UP_MS) / 1000;
const cpu = process.cpuUsage(cpuStart);
latenessMs.sort((a, b) => a - b);
const pct = (p: number): number =>
  latenessMs[Math.min(latenessMs.length - 1, Math.floor(p * latenessMs.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({
    schedules: count,
    loadSeconds,
    dispatches,
    dispatchesPerSecond: dispatches / elapsed,
    heapPerScheduleBytes,
    latenessP50Ms: pct(0.5),
    latenessP99Ms: pct(0.99),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    queued: await redis.llen(queue),
  })}\n`,
);
redis.disconnect();
await broker.close();
process.exit(0);
