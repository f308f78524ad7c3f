// A Beat on an in-memory store and a scripted dispatcher, under a simulated clock, with a listener that
// records what it was told.
import type { TaskDefinition } from '../../../src/api/types.ts';
import { Beat, type BeatOptions } from '../../../src/beat/beat.ts';
import type { RunState } from '../../../src/contracts.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { beatTask, recordingListener, runState } from './definitions.ts';
import { MemoryTaskStore } from './memory-task-store.ts';
import { ScriptedDispatcher } from './scripted-dispatcher.ts';
import type { SimulatedClock } from './simulated-clock.ts';

export interface BeatRig {
  beat: Beat;
  store: MemoryTaskStore;
  dispatcher: ScriptedDispatcher;
  listener: ReturnType<typeof recordingListener>;
  /** Adds a task both to the store and to the beat, from `cursor` (default: now). */
  add(def: TaskDefinition, cursor?: number, state?: Partial<RunState>): string;
}

/** Retries after 200 ms (doubling to 1.6 s, without jitter) unless `options` say otherwise. */
export function beatRig(clock: SimulatedClock, options: Partial<BeatOptions> = {}): BeatRig {
  const store = new MemoryTaskStore();
  const dispatcher = new ScriptedDispatcher({ store, clock: clock.now });
  const listener = recordingListener();
  const beat = new Beat({
    dispatcher,
    listener,
    logger: createLogger('silent'),
    clock: clock.now,
    retryBackoff: { initialMs: 200, maxMs: 1600 },
    random: () => 1,
    ...options,
  });
  return {
    beat,
    store,
    dispatcher,
    listener,
    add(def, cursor = clock.now(), state = {}) {
      const key = `${def.namespace}/${def.name}`;
      const initial = runState(cursor, state);
      store.put(key, def.uid, initial);
      beat.set(key, beatTask(def, initial));
      return key;
    },
  };
}
