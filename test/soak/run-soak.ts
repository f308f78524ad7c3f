// One soak: the parts up, the seeded tasks created, seeded faults one after another for the given time, then
// every task paused so that status can converge, the operators stopped, the workers drained, and the ledger of
// every slot built from what was observed.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { waitUntil } from '../support/ports.ts';
import { FAULT_TYPES, type FaultType, injectFault } from './faults.ts';
import type { Fault, History, StatusReading, StoredRunState } from './history.ts';
import { buildLedger, type Ledger } from './ledger.ts';
import { seededRandom } from './random.ts';
import { startRunStateSampler } from './run-state-sampler.ts';
import { startSoakBed } from './soak-bed.ts';
import { planTasks, TaskBook } from './task-book.ts';

export interface SoakOptions {
  seed: number;
  /** How long faults are injected. */
  faultMs: number;
  /** Instead of a time: this many rounds, each every fault type once in a seeded order. */
  rounds?: number;
  tasks: number;
  workers: number;
  burstSize: number;
  /** Only these fault types (default: all of them). */
  faultTypes?: readonly FaultType[];
  log?: (line: string) => void;
}

export interface SoakResult {
  ledger: Ledger;
  faults: Fault[];
  history: History;
  /** Where the history (JSON) and each replica's log were written. */
  recordDir: string;
}

const KUBE_API_QPS = 50;
/** Lenient: a slot this long after an edit, a pause, a disable or a delete must see it. */
const EDIT_GRACE_MS = 5000;

/** The workers must start a run at least this often while messages are queued, and be done within the limit. */
const DRAIN_STALL_MS = 60_000;
const DRAIN_LIMIT_MS = 30 * 60_000;

/** How long status may lag: the documented max(10 s, tasks ÷ qps), doubled for a loaded machine. */
function statusBoundMs(tasks: number): number {
  return 2 * Math.max(10_000, (tasks / KUBE_API_QPS) * 1000) + 10_000;
}

async function queueDepth(brokerUrl: string, queue: string): Promise<number> {
  const conn = await connect(brokerUrl);
  try {
    const channel = await conn.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    return messageCount;
  } finally {
    await conn.close();
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const random = seededRandom(options.seed);
  const types = options.faultTypes ?? FAULT_TYPES;
  const length =
    options.rounds === undefined
      ? `${Math.round(options.faultMs / 1000)} s of faults`
      : `${options.rounds} round(s) of every fault`;
  log(`soak seed ${options.seed}: ${options.tasks} tasks, ${length}`);
  const bed = await startSoakBed(options.workers, KUBE_API_QPS);
  const book = new TaskBook(bed.cluster, bed.ns.namespace, bed.queue);
  const sampler = startRunStateSampler(bed.sentinel.sentinelPorts, bed.masterName, () =>
    book.names().map((n) => book.taskKey(n)),
  );
  const faults: Fault[] = [];
  try {
    await book.createAll(planTasks(random, options.tasks, Date.now(), options.faultMs));
    // Faults start once the leader has written every key: the window begins with the tasks in the store.
    await waitUntil(
      'every task in the store',
      () => {
        const last = sampler.samples.slice(-book.names().length);
        return last.length === options.tasks && last.every((s) => s.state !== null);
      },
      120_000,
      200,
    );
    const deadline = Date.now() + options.faultMs;
    let round: FaultType[] = [];
    const more = (): boolean =>
      options.rounds === undefined ? Date.now() < deadline : faults.length < options.rounds * types.length;
    while (more()) {
      if (round.length === 0) round = random.shuffle(types);
      const type = round.shift()!;
      const fault = await injectFault(type, { bed, book, random, burstSize: options.burstSize, log });
      faults.push(fault);
      log(`fault ${faults.length} ${type} (${fault.end - fault.start} ms): ${fault.detail}`);
      // Quiet between faults, so each one's effects are its own.
      await new Promise((resolve) => setTimeout(resolve, random.int(2000, 6000)));
    }

    // The end: every task paused (nothing changes any more), then status must catch up within its bound.
    const quietFrom = Date.now();
    await book.pauseAll();
    await bed.waitForLeader('for the end');
    const bound = statusBoundMs(options.tasks);
    let readings: StatusReading[] = [];
    const lastState = (): ((task: string, uid: string) => StoredRunState | undefined) => {
      const map = new Map<string, StoredRunState>();
      for (const s of sampler.samples) if (s.state !== null) map.set(`${s.task}|${s.state.uid}`, s.state);
      return (task, uid) => map.get(`${task}|${uid}`);
    };
    await waitUntil(
      'status converged',
      async () => {
        await sampler.sampleOnce();
        readings = await book.statusReadings(lastState());
        const state = lastState();
        return readings.every((r) => {
          const s = state(r.task, r.uid);
          return (
            s !== undefined &&
            r.observedGeneration === r.generation &&
            r.readyReason === r.expectedReason &&
            r.totalRunCount === s.total &&
            r.missedRunCount === s.missed &&
            r.unknownRunCount === s.unknown &&
            r.pausedRunCount === s.paused
          );
        });
      },
      bound,
      1000,
    ).catch(() => log(`status did not converge within ${bound} ms of ${new Date(quietFrom).toISOString()}`));
    // Standby first, so that no one takes over from the leader stopping last.
    const leader = bed.leader();
    for (const replica of bed.replicas().filter((r) => r !== leader)) await replica.process.stop(15_000);
    await leader?.process.stop(15_000);
    await sampler.stop();
    await sampler.sampleOnce();
    // The workers may be far behind after the faults: wait while they make progress, and fail only when they
    // stop making any with messages still queued.
    let executions = await bed.executions();
    let progressAt = Date.now();
    await waitUntil(
      () => `the workers to drain queue ${bed.queue} (no run started for ${DRAIN_STALL_MS} ms)`,
      async () => {
        const now = await bed.executions();
        if (now.length !== executions.length) [executions, progressAt] = [now, Date.now()];
        const depth = await queueDepth(bed.brokerUrl, bed.queue);
        if (depth > 0 && Date.now() - progressAt > DRAIN_STALL_MS)
          throw new Error(`the workers stopped with ${depth} messages queued`);
        return depth === 0 && Date.now() - progressAt >= 3000;
      },
      DRAIN_LIMIT_MS,
      500,
    );
    const history: History = {
      seed: options.seed,
      incarnations: book.incarnations,
      runNows: book.runNows,
      samples: sampler.samples,
      executions,
      faults,
      finalStatus: readings,
      statusBoundMs: bound,
      editGraceMs: EDIT_GRACE_MS,
    };
    const recordDir = await mkdtemp(join(tmpdir(), `celerybeat-soak-${options.seed}-`));
    await writeFile(join(recordDir, 'history.json'), JSON.stringify(history));
    for (const { pid, output } of bed.replicaOutputs())
      await writeFile(join(recordDir, `replica-${pid}.log`), output);
    log(`history and replica logs in ${recordDir}`);
    return { ledger: buildLedger(history), faults, history, recordDir };
  } finally {
    await sampler.close();
    await bed.stop();
  }
}
