// What the property tests that run the Beat over a real Redis share: the dispatcher of either path, counted
// so that the test knows when no dispatch is in flight, a way to let real round trips finish under a mocked
// clock, and the slots whose messages reached the broker's lists.
import { mock } from 'node:test';
import type { Redis } from 'ioredis';
import type { TaskDefinition } from '../../src/api/types.ts';
import { Beat, type BeatListener } from '../../src/beat/beat.ts';
import { AtomicRedisDispatcher, ClaimThenPublishDispatcher } from '../../src/beat/slot-dispatcher.ts';
import { encodeRedisEnvelope } from '../../src/celery/redis-envelope.ts';
import { redisRouteFor, resolveRedisRoutes } from '../../src/celery/redis-routing.ts';
import type { Broker, PlannedSlot, SlotDispatcher } from '../../src/contracts.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { initialCursor } from '../../src/schedule/cursor.ts';
import type { RedisTaskStore } from '../../src/store/task-store.ts';
import { freshState } from './beat-sim.ts';

export interface CountedDispatcher extends SlotDispatcher {
  /** Dispatch calls not answered yet. */
  readonly inFlight: number;
}

/**
 * The store's dispatcher: claim, push and record in one script on the broker's Redis (`atomic`), or claim
 * and publish through `broker`; either way counted.
 */
export function countedDispatcher(
  store: RedisTaskStore,
  brokerRedis: Redis,
  broker: Broker,
  atomic: boolean,
): CountedDispatcher {
  const inner: SlotDispatcher = atomic
    ? new AtomicRedisDispatcher(
        store,
        {
          listKeys: (options) => resolveRedisRoutes(brokerRedis, options),
          envelope: (message, options) => encodeRedisEnvelope(message, redisRouteFor(options)),
        },
        broker,
      )
    : new ClaimThenPublishDispatcher(store, broker);
  let inFlight = 0;
  return {
    get inFlight() {
      return inFlight;
    },
    async dispatch(slots: PlannedSlot[], token: string) {
      inFlight += 1;
      try {
        return await inner.dispatch(slots, token);
      } finally {
        inFlight -= 1;
      }
    },
  };
}

/** A Beat on the dispatcher, on the (mocked) Date clock, retrying after 1 s; `rejected` hears each rejection. */
export function beatOn(dispatcher: CountedDispatcher, rejected: BeatListener['rejected']): Beat {
  return new Beat({
    dispatcher,
    listener: { recorded: () => {}, rejected, fenced: () => {} },
    logger: createLogger('silent'),
    clock: () => Date.now(),
    // The product's retry backoff without jitter, so that a seed replays the same run.
    random: () => 1,
  });
}

/** Writes each task into the (fresh) store from its initial cursor, and gives it to the beat. */
export async function scheduleAll(store: RedisTaskStore, beat: Beat, defs: TaskDefinition[]): Promise<void> {
  for (const def of defs) {
    const key = `${def.namespace}/${def.name}`;
    const up = await store.upsert(def, freshState(initialCursor(def, Date.now())));
    if (up.status === 'foreign') throw new Error(`${key}: foreign key in a fresh store`);
    beat.set(key, { def, schedule: compileSchedule(def.schedule, def.timeZone), state: up.state });
  }
}

/**
 * Turns the event loop, firing due mocked timers, until no dispatch is in flight: real Redis round trips (and
 * a broker's first connection) under a mocked clock. False when that took over 20 s of real time
 * (performance.now is not mocked).
 */
export async function settled(dispatcher: CountedDispatcher): Promise<boolean> {
  const deadline = performance.now() + 20_000;
  for (let i = 0; performance.now() < deadline; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    mock.timers.tick(0);
    if (dispatcher.inFlight === 0 && i > 2) return true;
  }
  return false;
}

/** Every envelope in the database's lists: its task key and slot. */
export async function pushedSlots(db: Redis): Promise<{ name: string; slot: string }[]> {
  const out: { name: string; slot: string }[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await db.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if ((await db.type(key)) !== 'list') continue;
      for (const raw of await db.lrange(key, 0, -1)) {
        const headers = (JSON.parse(raw) as { headers: Record<string, unknown> }).headers;
        out.push({
          name: String(headers.periodic_task_name),
          slot: String(headers.periodic_task_scheduled_at),
        });
      }
    }
  } while (cursor !== '0');
  return out;
}
