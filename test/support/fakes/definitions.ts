// Task definitions and run states for the core's tests, built directly (validation has its own tests).
import type { PeriodicTask, PeriodicTaskSpec, TaskDefinition } from '../../../src/api/types.ts';
import type { BeatListener, BeatTask } from '../../../src/beat/beat.ts';
import type { RunState } from '../../../src/contracts.ts';
import { compileTaskSchedule } from '../../../src/schedule/compile.ts';

export function definition(name: string, overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    namespace: 'ns',
    name,
    uid: `uid-${name}`,
    generation: 1,
    task: 'tasks.add',
    schedule: { kind: 'interval', every: 1, period: 'seconds' },
    timeZone: 'UTC',
    enabled: true,
    args: [1, 2],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    oneOff: false,
    ...overrides,
  };
}

export function runState(cursor: number, overrides: Partial<RunState> = {}): RunState {
  return {
    cursor,
    totalRunCount: 0,
    lastTaskId: null,
    lastTaskSlot: null,
    missedRunCount: 0,
    pausedRunCount: 0,
    ...overrides,
  };
}

/** The run state after `totalRunCount` runs, the last of them (task id `id-<count>`) for the slot at `cursor`. */
export function ranState(cursor: number, totalRunCount: number): RunState {
  return runState(cursor, { totalRunCount, lastTaskId: `id-${totalRunCount}`, lastTaskSlot: cursor });
}

export function beatTask(def: TaskDefinition, state: RunState): BeatTask {
  return { def, schedule: compileTaskSchedule(def), state };
}

/** A PeriodicTask object as a source lists it. */
export function periodicTask(
  name: string,
  spec: Partial<PeriodicTaskSpec> = {},
  uid = `uid-${name}`,
): PeriodicTask {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace: 'ns', uid, generation: 1 },
    spec: { task: 'tasks.add', interval: { every: 1, period: 'seconds' }, ...spec },
  };
}

export interface ListenerRecord {
  recorded: Array<{ key: string; state: RunState; nextRunAt: number | null }>;
  rejected: Array<{ key: string; reason: string; problem?: string }>;
  pausedByFailures: Array<{ key: string; count: number }>;
  fenced: number;
}

/** A BeatListener that keeps what it was told. */
export function recordingListener(): BeatListener & { log: ListenerRecord } {
  const log: ListenerRecord = { recorded: [], rejected: [], pausedByFailures: [], fenced: 0 };
  return {
    log,
    recorded: (def, state, nextRunAt) =>
      log.recorded.push({ key: `${def.namespace}/${def.name}`, state, nextRunAt }),
    rejected: (def, reason, problem) =>
      log.rejected.push({ key: `${def.namespace}/${def.name}`, reason, problem }),
    pausedByFailures: (def, state) =>
      log.pausedByFailures.push({ key: `${def.namespace}/${def.name}`, count: state.failures?.count ?? 0 }),
    fenced: () => {
      log.fenced += 1;
    },
  };
}
