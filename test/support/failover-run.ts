// One Sentinel failover under load, measured: N tasks every second (N dispatches/s) run by the real operator
// against a Sentinel-managed store; the master is SIGKILLed mid-run. Afterwards every slot of every task is
// accounted for from the broker's messages and the new master's keys. Shared by the integration test (which
// asserts) and the benchmark (which prints the figures of several configurations).
import { Redis } from 'ioredis';
import { decodeDatetime } from '../../src/store/datetime.ts';
import { intervalTask, manifestDir } from './manifests.ts';
import { type OperatorProcess, startOperator } from './operator-process.ts';
import { waitUntil } from './ports.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';
import { startSentinelSet } from './sentinel.ts';

export interface FailoverOptions {
  tasks: number;
  /** `on`/`off`, or undefined for the default (auto). */
  durableClaims?: 'on' | 'off';
  /** The broker: a separate Redis (default), or the store's own Sentinel-managed Redis (database 1). */
  broker?: 'separate-redis' | 'store-redis';
  /** Seconds of dispatching after the operator is back, before it is stopped. */
  afterSeconds?: number;
}

export interface FailoverFigures {
  tasks: number;
  durableClaims: boolean;
  /** SIGKILL of the master → the Sentinels name a new master that accepts writes. */
  promotionMs: number;
  /** The masters after the kill: the first one promoted, then any the Sentinels switched to later. */
  masters: number[];
  /** SIGKILL → the first message the operator published through the new master. */
  resumeMs: number;
  /** Slots published more than once (each extra copy counts). */
  duplicates: number;
  /** Slots neither published nor counted in missed_run_count. */
  lost: number;
  /** The tasks with lost slots: the unpublished slots up to the cursor, and the run state on the new master. */
  lostDetail: string[];
  /** Runs the new master records (total_run_count) that never reached the broker. */
  recordedNotPublished: number;
  /** Slots skipped by the catch-up rule while the store was down (counted, as designed). */
  missed: number;
  published: number;
  /** The operator's log says dispatches were retried (failed, not durable): how it rode out the switch. */
  operatorLog: string[];
}

interface Message {
  task: string;
  slot: number;
}

function decodeMessage(raw: string): Message {
  const headers = (JSON.parse(raw) as { headers: Record<string, string> }).headers;
  return { task: headers.periodic_task_name!, slot: Date.parse(headers.periodic_task_scheduled_at!) };
}

export async function runSentinelFailover(options: FailoverOptions): Promise<FailoverFigures> {
  const { tasks, afterSeconds = 5 } = options;
  const sentinel = await startSentinelSet();
  const separate: RedisServer | undefined =
    options.broker === 'store-redis' ? undefined : await startRedisServer();
  const dir = await manifestDir();
  const queue = 'failover';
  let operator: OperatorProcess | undefined;
  // The messages: on the separate broker, or (same Redis) read through the Sentinels from the new master.
  const brokerClient = separate
    ? new Redis(`${separate.url}/0`, { maxRetriesPerRequest: 1 })
    : new Redis({
        sentinels: sentinel.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
        name: 'cbmaster',
        db: 1,
        maxRetriesPerRequest: 1,
      });
  brokerClient.on('error', () => undefined);
  const llen = (): Promise<number> => brokerClient.llen(queue).catch(() => -1);
  try {
    const docs = Array.from({ length: tasks }, (_, i) => intervalTask(`t${i}`, 1, { options: { queue } }));
    await dir.write('tasks.yaml', ...docs);
    const args = [
      '--manifests',
      dir.path,
      '--redis-url',
      sentinel.url(0),
      '--broker-url',
      separate ? `${separate.url}/0` : sentinel.url(1),
      '--log-level',
      'warn',
    ];
    if (options.durableClaims) args.push('--durable-claims', options.durableClaims);
    operator = startOperator(args);
    // Steady state: every task has run at least twice.
    await waitUntil('two runs of every task', async () => (await llen()) >= 2 * tasks, 60_000, 100);
    const killed = await sentinel.killMaster();
    const lengthAtKill = await llen();
    const newMaster = await sentinel.waitForNewMaster(killed.port, 60_000);
    const promotedAt = Date.now();
    const lengthAtPromotion = await llen();
    let resumedAt = 0;
    await waitUntil(
      () =>
        `the operator publishing through the new master; its warnings and errors:\n${operator!
          .logs()
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      async () => {
        const n = await llen();
        if (n > Math.max(lengthAtKill, lengthAtPromotion)) resumedAt = Date.now();
        return resumedAt !== 0;
      },
      60_000,
      10,
    );
    const resumedLength = await llen();
    let latestLength = resumedLength;
    await waitUntil(
      () =>
        `${afterSeconds} s of runs after the failover (${latestLength - resumedLength} of ${afterSeconds * tasks} sent); the operator's last lines:\n${operator!
          .logs()
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      async () => {
        latestLength = await llen();
        return latestLength >= resumedLength + afterSeconds * tasks;
      },
      60_000,
      100,
    );
    const operatorLog = operator
      .logs()
      .filter((l) => l.level === 'warn' || l.level === 'error')
      .map((l) => String(l.msg));
    await operator.stop();
    operator = undefined;

    // Read the run state from the master the Sentinels settled on, not from the first one promoted.
    const finalMaster = await sentinel.settledMaster(60_000);
    const messages = (await brokerClient.lrange(queue, 0, -1)).map(decodeMessage);
    const store = sentinel.node(finalMaster);
    const keys = docs.map((_, i) => `tasks:meta:default/t${i}`);
    const values = await store.mget(keys);
    const bySlot = new Map<string, number>();
    const byTask = new Map<string, Set<number>>();
    for (const m of messages) {
      const id = `${m.task}@${m.slot}`;
      bySlot.set(id, (bySlot.get(id) ?? 0) + 1);
      const slots = byTask.get(m.task) ?? new Set<number>();
      byTask.set(m.task, slots);
      slots.add(m.slot);
    }
    let duplicates = 0;
    for (const n of bySlot.values()) duplicates += n - 1;
    let lost = 0;
    let recordedNotPublished = 0;
    let missed = 0;
    const lostDetail: string[] = [];
    values.forEach((raw, i) => {
      if (raw === null) throw new Error(`the new master has no key ${keys[i]}`);
      const value = JSON.parse(raw) as Record<string, unknown>;
      const cursor = decodeDatetime(value.last_run_at);
      const slots = byTask.get(`default/t${i}`) ?? new Set<number>();
      const first = Math.min(...slots);
      // Interval slots sit on a 1 s grid from the first: every one up to the cursor is run or missed.
      const expected = Math.round((cursor - first) / 1000) + 1;
      const taskMissed = Number(value.missed_run_count);
      missed += taskMissed;
      const taskLost = Math.max(0, expected - [...slots].filter((s) => s <= cursor).length - taskMissed);
      lost += taskLost;
      if (taskLost > 0 && lostDetail.length < 10) {
        const gaps: string[] = [];
        for (let slot = first; slot <= cursor + 1; slot += 1000)
          if (!slots.has(slot)) gaps.push(new Date(slot).toISOString());
        lostDetail.push(
          `default/t${i}: not published ${gaps.join(', ')}; cursor ${new Date(cursor).toISOString()}, ` +
            `missed ${taskMissed}, runs ${String(value.total_run_count)} of ${slots.size} published ` +
            `(${[...slots]
              .sort((a, b) => a - b)
              .map((s) => new Date(s).toISOString().slice(17, 23))
              .join(' ')})`,
        );
      }
      recordedNotPublished += Math.max(0, Number(value.total_run_count) - slots.size);
    });
    return {
      tasks,
      durableClaims: options.broker !== 'store-redis' && options.durableClaims !== 'off',
      masters: finalMaster === newMaster ? [newMaster] : [newMaster, finalMaster],
      promotionMs: promotedAt - killed.at,
      resumeMs: resumedAt - killed.at,
      duplicates,
      lost,
      lostDetail,
      recordedNotPublished,
      missed,
      published: messages.length,
      operatorLog: [...new Set(operatorLog)],
    };
  } finally {
    await operator?.stop().catch(() => undefined);
    brokerClient.disconnect();
    await dir.remove();
    await separate?.stop();
    await sentinel.stop();
  }
}
