// Reads every soak task's key from the store's current master (through the Sentinels) once a second, and keeps
// each read as a sample of its run state: the ledger's chain of cursors and counters. A round that fails (the
// master is down, a failover under way) is skipped; the gap shows as a longer step.
import { Redis } from 'ioredis';
import { decodeDatetime } from '../../src/store/datetime.ts';
import type { RunSample, StoredRunState } from './history.ts';

const PREFIX = 'tasks:meta:';

export function parseRunState(raw: string): StoredRunState {
  const value = JSON.parse(raw) as Record<string, unknown>;
  const owner = value.owner as { uid?: unknown } | undefined;
  const count = (field: string): number => Number(value[field] ?? 0);
  return {
    uid: String(owner?.uid ?? ''),
    cursor: decodeDatetime(value.last_run_at),
    total: count('total_run_count'),
    missed: count('missed_run_count'),
    unknown: count('unknown_run_count'),
    paused: count('paused_run_count'),
    publishing: value.publishing != null,
  };
}

export interface RunStateSampler {
  readonly samples: RunSample[];
  /** One round now (also the last one, once the operators have stopped); false when the store did not answer. */
  sampleOnce(): Promise<boolean>;
  /** Ends the rounds once a second; `sampleOnce` still works until `close`. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export function startRunStateSampler(
  sentinelPorts: readonly number[],
  masterName: string,
  taskKeys: () => string[],
  intervalMs = 1000,
): RunStateSampler {
  const client = new Redis({
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    name: masterName,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 3000,
  });
  client.on('error', () => undefined);
  const samples: RunSample[] = [];
  const sampleOnce = async (): Promise<boolean> => {
    const tasks = taskKeys();
    if (tasks.length === 0) return true;
    try {
      const values = await client.mget(tasks.map((t) => `${PREFIX}${t}`));
      const at = Date.now();
      tasks.forEach((task, i) => {
        const raw = values[i];
        samples.push({ at, task, state: raw == null ? null : parseRunState(raw) });
      });
      return true;
    } catch {
      return false;
    }
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      await sampleOnce();
      // The pace of the samples, not a wait for something to happen.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();
  return {
    samples,
    sampleOnce,
    async stop() {
      running = false;
      await loop;
    },
    async close() {
      running = false;
      await loop;
      client.disconnect();
    },
  };
}
