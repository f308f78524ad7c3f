// The faults a soak injects, one at a time: each does its damage, waits for the parts to be whole again (a new
// leader, a new master with its replicas, a replacement worker) and says when it began and ended.
import { waitUntil } from '../support/ports.ts';
import { redisCall } from '../support/redis-call.ts';
import type { Fault } from './history.ts';
import type { Random } from './random.ts';
import type { SoakBed } from './soak-bed.ts';
import type { TaskBook } from './task-book.ts';

export const FAULT_TYPES = [
  'leader-sigkill',
  'leader-sigterm',
  'standby-sigkill',
  'standby-sigterm',
  'redis-failover',
  'redis-restart-empty',
  'broker-restart',
  'broker-alarm',
  'edit-burst',
  'worker-kill',
  'leader-api-partition',
  'api-freeze',
  'api-restart',
] as const;

export type FaultType = (typeof FAULT_TYPES)[number];

export interface FaultContext {
  bed: SoakBed;
  book: TaskBook;
  random: Random;
  /** Changes in one burst of edits. */
  burstSize: number;
  log: (line: string) => void;
}

type Injector = (ctx: FaultContext) => Promise<string>;

async function replaceLeader(ctx: FaultContext, signal: 'SIGKILL' | 'SIGTERM'): Promise<string> {
  const leader = await ctx.bed.waitForLeader('before the fault');
  const at = Date.now();
  let exit: number | string = 'killed';
  if (signal === 'SIGKILL') await leader.kill();
  else exit = await leader.process.stop(15_000).then(() => leader.process.exited);
  ctx.bed.forget(leader);
  await ctx.bed.startReplica();
  const next = await ctx.bed.waitForLeader('after the leader went', at);
  return `leader pid ${leader.process.child.pid} (exit ${exit}); pid ${next.process.child.pid} leads after ${Date.now() - at} ms`;
}

async function replaceStandby(ctx: FaultContext, signal: 'SIGKILL' | 'SIGTERM'): Promise<string> {
  const leader = await ctx.bed.waitForLeader('before the fault');
  const standby = ctx.bed.replicas().find((r) => r !== leader);
  if (standby === undefined) return 'no standby to stop';
  let exit: number | string = 'killed';
  if (signal === 'SIGKILL') await standby.kill();
  else exit = await standby.process.stop(15_000).then(() => standby.process.exited);
  ctx.bed.forget(standby);
  await ctx.bed.startReplica();
  return `standby pid ${standby.process.child.pid} (exit ${exit})`;
}

/** Starts replicas until two are alive (a fenced leader exits by itself). */
async function topUpReplicas(ctx: FaultContext): Promise<void> {
  while (ctx.bed.replicas().length < 2) await ctx.bed.startReplica();
  await ctx.bed.waitForLeader('two replicas, one leading');
}

const INJECTORS: Record<FaultType, Injector> = {
  'leader-sigkill': (ctx) => replaceLeader(ctx, 'SIGKILL'),
  'leader-sigterm': (ctx) => replaceLeader(ctx, 'SIGTERM'),
  'standby-sigkill': (ctx) => replaceStandby(ctx, 'SIGKILL'),
  'standby-sigterm': (ctx) => replaceStandby(ctx, 'SIGTERM'),
  async 'redis-failover'({ bed }) {
    const killed = await bed.sentinel.killMaster();
    const promoted = await bed.sentinel.waitForNewMaster(killed.port, 60_000);
    await bed.sentinel.restartNode(killed.port);
    await bed.sentinel.settledMaster(60_000);
    await bed.sentinel.waitForReplicas(2, 60_000);
    return `master ${killed.port} killed, ${promoted} promoted, ${killed.port} back as a replica`;
  },
  async 'redis-restart-empty'({ bed }) {
    // Back before the Sentinels notice (down-after 1 s): the master is the same, empty, and its replicas copy it.
    const killed = await bed.sentinel.killMaster();
    await bed.sentinel.restartNode(killed.port);
    const master = await bed.sentinel.settledMaster(60_000);
    await bed.sentinel.waitForReplicas(2, 60_000);
    const keys = Number(await redisCall(master, 'DBSIZE').catch(() => -1));
    return `master ${killed.port} restarted empty; master now ${master} (${keys} keys once settled)`;
  },
  async 'broker-restart'({ bed, random }) {
    bed.brokerRelay.cut();
    const downMs = random.int(1000, 5000);
    // The broker is away for this long: the fault itself, not a wait for something.
    await new Promise((resolve) => setTimeout(resolve, downMs));
    bed.brokerRelay.accept();
    return `operators cut off from RabbitMQ for ${downMs} ms`;
  },
  async 'broker-alarm'({ bed, random }) {
    // A memory watermark of 0 raises RabbitMQ's memory alarm at once: every publishing connection is blocked
    // (its confirms stop) while consumers go on.
    const alarmMs = random.int(2000, 8000);
    await bed.broker.ctl(['set_vm_memory_high_watermark', '0']);
    try {
      await new Promise((resolve) => setTimeout(resolve, alarmMs));
    } finally {
      await bed.broker.ctl(['set_vm_memory_high_watermark', '0.4']);
    }
    return `RabbitMQ's memory alarm raised for ${alarmMs} ms (publishers blocked)`;
  },
  async 'edit-burst'({ book, random, burstSize, log }) {
    const changes: string[] = [];
    for (let i = 0; i < burstSize; i++) changes.push(await book.change(random));
    log(`  edits: ${changes.join('; ')}`);
    return `${changes.length} changes`;
  },
  'leader-api-partition': leaderApiPartition,
  'api-freeze': apiFreeze,
  async 'api-restart'(ctx) {
    const leader = ctx.bed.leader();
    const at = Date.now();
    await ctx.bed.cluster.restartApiServer();
    const downMs = Date.now() - at;
    for (const r of ctx.bed.replicas()) if (r.process.hasExited()) ctx.bed.forget(r);
    await topUpReplicas(ctx);
    const after = await ctx.bed.waitForLeader('after the API server restarted');
    return `API server stopped and started again (${downMs} ms); leader pid ${leader?.process.child.pid} before, ${after.process.child.pid} after`;
  },
  async 'worker-kill'({ bed, random }) {
    const workers = bed.workers();
    let victim = random.pick(workers);
    // Mid-task if any worker is: the first one seen with a run started and not finished.
    await waitUntil(
      'a worker in the middle of a task',
      async () => {
        for (const w of workers) {
          if ((await w.executions()).some((e) => e.outcome === 'running')) {
            victim = w;
            return true;
          }
        }
        return false;
      },
      20_000,
      50,
    ).catch(() => undefined);
    const running = (await victim.executions()).filter((e) => e.outcome === 'running').map((e) => e.id);
    await bed.killWorker(victim);
    await bed.startWorker();
    return `worker ${victim.hostname} killed${running.length > 0 ? ` running ${running.join(', ')}` : ' (idle)'}`;
  },
};

async function leaderApiPartition(ctx: FaultContext): Promise<string> {
  const leader = await ctx.bed.waitForLeader('before the fault');
  const relay = ctx.bed.apiRelay(leader);
  const at = Date.now();
  relay.freeze();
  // The standby takes the Lease once it expires; the cut-off leader is fenced by the epoch in Redis.
  const next = await ctx.bed
    .waitForLeader('a standby taking over from the cut-off leader', at)
    .catch((error: Error) => {
      relay.thaw();
      throw error;
    });
  relay.thaw();
  await waitUntil('the cut-off leader to step down', () => !ctx.bed.leads(leader), 30_000, 100);
  if (leader.process.hasExited()) ctx.bed.forget(leader);
  await topUpReplicas(ctx);
  return `leader pid ${leader.process.child.pid} cut off from the API server; pid ${next.process.child.pid} leads after ${Date.now() - at} ms; the old one ${leader.process.hasExited() ? `exited (${await leader.process.exited})` : 'stepped down'}`;
}

async function apiFreeze(ctx: FaultContext): Promise<string> {
  const replicas = ctx.bed.replicas();
  const relays = replicas.map((r) => ctx.bed.apiRelay(r));
  const leader = ctx.bed.leader();
  // Shorter than the hold-over limit (four lease durations): the leader rides it out.
  const frozenMs = ctx.random.int(2000, 8000);
  for (const relay of relays) relay.freeze();
  await new Promise((resolve) => setTimeout(resolve, frozenMs));
  for (const relay of relays) relay.thaw();
  for (const r of replicas) if (r.process.hasExited()) ctx.bed.forget(r);
  await topUpReplicas(ctx);
  const after = await ctx.bed.waitForLeader('after the API server froze');
  return `API server frozen for every replica for ${frozenMs} ms; leader pid ${leader?.process.child.pid} before, ${after.process.child.pid} after`;
}

export async function injectFault(type: FaultType, ctx: FaultContext): Promise<Fault> {
  // A replica that stepped down after a partition exits by itself, perhaps well after its fault ended.
  await topUpReplicas(ctx);
  const start = Date.now();
  const detail = await INJECTORS[type](ctx);
  return { type, start, end: Date.now(), detail };
}
