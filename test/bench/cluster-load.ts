// The load of the cluster benchmark: N PeriodicTasks with intervals from 10 s to 1 h, applied with kubectl in
// chunks, and the Celery queue they are sent to, drained by the benchmark (so Redis does not grow) while it
// notes the first message of each task.
import type { Redis } from 'ioredis';
import { periodicTask } from '../support/operator-cluster.ts';
import type { ClusterHandle } from '../testbed/cluster.ts';
import type { FirstRunLedger } from './first-runs.ts';

export const QUEUE = 'bench';
const MIN_EVERY_S = 10;
const MAX_EVERY_S = 3600;
/** First slots of a chunk fall within this window (or the interval, when shorter) after its anchor. */
const FIRST_SLOT_WINDOW_S = 60;

/** Low-discrepancy fractions: a deterministic mix that is even at every size. */
const frac = (x: number): number => x - Math.floor(x);

/** Task i's interval in seconds: log-uniform from 10 s to 1 h. */
export function everySeconds(i: number): number {
  return Math.round(MIN_EVERY_S * (MAX_EVERY_S / MIN_EVERY_S) ** frac(i * 0.6180339887498949));
}

/** Where task i's first slot lies after its chunk's anchor, in ms: spread over min(interval, 60 s). */
function firstSlotOffsetMs(i: number): number {
  return Math.floor(
    frac(i * 0.7548776662466927 + 0.5) * Math.min(everySeconds(i), FIRST_SLOT_WINDOW_S) * 1000,
  );
}

/** Runs per second the N tasks ask for: the sum of 1 / interval. */
export function demandPerSecond(count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i += 1) sum += 1 / everySeconds(i);
  return sum;
}

export const taskName = (i: number): string => `task-${i}`;

export interface ApplyOptions {
  /** Tasks per kubectl call (one List). */
  chunk: number;
  /** kubectl calls at once. */
  parallel: number;
  /**
   * A task's first slot is this long (plus its offset) after the moment kubectl is expected to send it: its
   * position in the List times the time per object the last calls took. The operator must have it by then.
   */
  marginMs: number;
  /** Takes each task's planned first slot, before the task is sent. */
  ledger: FirstRunLedger;
  onChunk?: (applied: number) => void;
}

/** Time per object assumed until kubectl calls have been timed (ms). */
const INITIAL_PER_OBJECT_MS = 50;
/** The estimate is the slowest of the last few calls: an early slot would be missed, a late one only waits. */
const TIMED_CALLS = 4;

/**
 * Applies tasks 0..count-1 with `kubectl apply --server-side`, `chunk` per List and `parallel` calls at once.
 * kubectl sends a List's objects one request after another, so the k-th object of a call reaches the API
 * server about k × (time per object) after the call starts. Each task's startTime puts its first slot
 * `marginMs` + its offset after that: startTime is one interval before the slot, and the first interval
 * slot is startTime + every (see initialCursor).
 */
export async function applyInChunks(
  cluster: ClusterHandle,
  namespace: string,
  count: number,
  options: ApplyOptions,
): Promise<void> {
  let next = 0;
  let applied = 0;
  const timings: number[] = [];
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + options.chunk);
      next = to;
      const builtAt = Date.now();
      const perObjectMs =
        timings.length > 0 ? Math.max(...timings.slice(-TIMED_CALLS)) : INITIAL_PER_OBJECT_MS;
      const items: unknown[] = [];
      for (let i = from; i < to; i += 1) {
        const every = everySeconds(i);
        const first =
          builtAt + options.marginMs + Math.round((i - from) * perObjectMs) + firstSlotOffsetMs(i);
        options.ledger.plan(taskName(i), first, every * 1000);
        items.push(
          JSON.parse(
            periodicTask(namespace, taskName(i), {
              interval: { every, period: 'seconds' },
              startTime: new Date(first - every * 1000).toISOString(),
              args: [i],
              options: { queue: QUEUE },
            }),
          ),
        );
      }
      await cluster.kubectl(['apply', '--server-side', '-o', 'name', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
      });
      timings.push((Date.now() - builtAt) / (to - from));
      applied += to - from;
      options.onChunk?.(applied);
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
}

export interface FirstMessage {
  /** When the benchmark took it off the queue. */
  at: number;
  /** Its periodic_task_scheduled_at. */
  slot: number;
}

/**
 * Empties the queue every `everyMs` (oldest messages first, at most `batch` per round trip) and keeps, per
 * task (`periodic_task_name` without the namespace), its first message.
 */
export class QueueDrain {
  readonly #redis: Redis;
  readonly #everyMs: number;
  readonly first = new Map<string, FirstMessage>();
  messages = 0;
  lastError: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(redis: Redis, everyMs = 250) {
    this.#redis = redis;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.#drain()
        .catch((error: unknown) => {
          this.lastError = (error as Error).message;
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, this.#everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async #drain(batch = 5000): Promise<void> {
    for (;;) {
      // LPUSH puts new messages at the head: the oldest are at the tail.
      const replies = await this.#redis
        .multi()
        .lrange(QUEUE, -batch, -1)
        .ltrim(QUEUE, 0, -batch - 1)
        .exec();
      const raw = (replies?.[0]?.[1] ?? []) as string[];
      const at = Date.now();
      for (let k = raw.length - 1; k >= 0; k -= 1) {
        const headers = (JSON.parse(raw[k]!) as { headers: Record<string, string> }).headers;
        const name = headers.periodic_task_name!.slice(headers.periodic_task_name!.indexOf('/') + 1);
        this.messages += 1;
        if (!this.first.has(name))
          this.first.set(name, { at, slot: Date.parse(headers.periodic_task_scheduled_at!) });
      }
      if (raw.length < batch) return;
    }
  }
}
