// What durable claims cost and what a Sentinel failover does, on a real master + two replicas + three
// Sentinels. Prints figures only; it asserts nothing about time.
//
//   node test/bench/redis-topologies.bench.ts [--tasks N] [--rounds R] [--failovers F]
// 1. Claims per second on the master, in batches of 1,000 with two in flight (as the beat sends them):
//    the claim script alone, and the claim script + WAIT 1 (durable claims). Median of R rounds of 3 s.
// 2. F failovers (SIGKILL of the master) at N dispatches/s for each configuration: separate Redis broker
//    with durable claims on, the same with them off, and the broker on the store's own Redis.
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { DispatchItem, RunState } from '../../src/contracts.ts';
import { encodeRunStateTail } from '../../src/store/task-record.ts';
import { RedisTaskStore } from '../../src/store/task-store.ts';
import { type FailoverFigures, type FailoverOptions, runSentinelFailover } from '../support/failover-run.ts';
import { startSentinelSet } from '../support/sentinel.ts';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    failovers: { type: 'string', default: '2' },
  },
});
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const FAILOVERS = Number(values.failovers);
const KEYS = 10_000;
const BATCH = 1000;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function claimRate(store: RedisTaskStore, states: RunState[], durable: boolean): Promise<number> {
  let claimed = 0;
  let next = 0;
  const until = performance.now() + 3000;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      const items: DispatchItem[] = [];
      for (let j = 0; j < BATCH; j++) {
        const i = next++ % KEYS;
        const expected = states[i]!;
        const after = {
          ...expected,
          cursor: expected.cursor + 1000,
          totalRunCount: expected.totalRunCount + 1,
        };
        items.push({ taskKey: `bench/t${i}`, expected, next: after });
      }
      const results = durable
        ? await store.claimDurably(items).then((r) => {
            if (!r.durable) throw new Error('WAIT was not confirmed by a replica');
            return r.results;
          })
        : await store.dispatch(items);
      results.forEach((r, j) => {
        if (r.status !== 'ok') throw new Error(`claim ${j} gave ${r.status}`);
        const item = items[j]!;
        states[Number(item.taskKey.slice('bench/t'.length))] = item.next;
      });
      claimed += items.length;
    }
  };
  // Two lanes never hold the same key at once: each batch takes the next 1,000 of 10,000 keys.
  await Promise.all([lane(), lane()]);
  return claimed / ((performance.now() - started) / 1000);
}

async function median(measure: () => Promise<number>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(await measure());
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

const sentinel = await startSentinelSet();
try {
  const master = new Redis({ port: await sentinel.masterPort(), host: '127.0.0.1' });
  const store = new RedisTaskStore(master, { keyPrefix: 'tasks:meta:' });
  const states: RunState[] = [];
  const pipeline = master.pipeline();
  for (let i = 0; i < KEYS; i++) {
    const state: RunState = {
      cursor: Date.UTC(2026, 0, 1),
      totalRunCount: 0,
      lastTaskId: null,
      lastTaskSlot: null,
      missedRunCount: 0,
      pausedRunCount: 0,
    };
    states.push(state);
    pipeline.set(
      `tasks:meta:bench/t${i}`,
      `{"name": "bench/t${i}", "task": "tasks.add"${encodeRunStateTail(state)}`,
    );
  }
  await pipeline.exec();
  await claimRate(store, states, false); // warm-up
  const plain = await median(() => claimRate(store, states, false));
  const durable = await median(() => claimRate(store, states, true));
  master.disconnect();
  process.stdout.write(
    `claims per second on a master with two replicas (batches of ${BATCH}, two in flight, median of ${ROUNDS}):\n` +
      `  claim script alone:        ${fmt(plain)}\n` +
      `  claim script + WAIT 1:     ${fmt(durable)}  (${((1 - durable / plain) * 100).toFixed(0)}% fewer)\n\n`,
  );
} finally {
  await sentinel.stop();
}

const configurations: Array<[string, FailoverOptions]> = [
  ['separate Redis broker, durable claims on (default)', { tasks: TASKS }],
  ['separate Redis broker, --durable-claims off', { tasks: TASKS, durableClaims: 'off' }],
  ["broker on the store's Redis (atomic claim + push)", { tasks: TASKS, broker: 'store-redis' }],
];
process.stdout.write(
  `SIGKILL of the Sentinel-managed master at ${fmt(TASKS)} dispatches/s (${FAILOVERS} runs each):\n` +
    '| configuration | promotion | operator back | published twice | lost | recorded, not published | missed (counted) |\n' +
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n',
);
for (const [name, options] of configurations) {
  const runs: FailoverFigures[] = [];
  for (let i = 0; i < FAILOVERS; i++) runs.push(await runSentinelFailover(options));
  const list = (pick: (f: FailoverFigures) => number): string => runs.map((f) => fmt(pick(f))).join(', ');
  const seconds = (pick: (f: FailoverFigures) => number): string =>
    runs.map((f) => `${(pick(f) / 1000).toFixed(1)} s`).join(', ');
  process.stdout.write(
    `| ${name} | ${seconds((f) => f.promotionMs)} | ${seconds((f) => f.resumeMs)} | ` +
      `${list((f) => f.duplicates)} | ${list((f) => f.lost)} | ${list((f) => f.recordedNotPublished)} | ${list((f) => f.missed)} |\n`,
  );
}
