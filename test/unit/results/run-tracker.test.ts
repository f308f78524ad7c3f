// The tracker tells each final result to the one that counts failures in a row (the beat): once as it learns
// it, and those of the saved history again, oldest first, when it takes a task's history over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FinishedRun, ResultBackend, RunResult } from '../../../src/contracts.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import type { TrackedRun } from '../../../src/results/run-history.ts';
import { type HistoryStore, RunTracker } from '../../../src/results/run-tracker.ts';
import { definition } from '../../support/fakes/definitions.ts';
import { settle } from '../../support/fakes/simulated-clock.ts';

const NOW = Date.UTC(2030, 0, 1);

class StoredResults implements ResultBackend {
  readonly results = new Map<string, RunResult>();
  async fetch(taskIds: readonly string[]): Promise<Map<string, RunResult>> {
    return new Map(taskIds.flatMap((id) => (this.results.has(id) ? [[id, this.results.get(id)!]] : [])));
  }
  async close(): Promise<void> {}
}

function tracker(backend: ResultBackend, history?: HistoryStore) {
  const told: Array<{ key: string; run: FinishedRun }> = [];
  const runs = new RunTracker({
    backend,
    results: { results: () => {} },
    finished: { finished: (key, run) => told.push({ key, run }) },
    logger: createLogger('silent'),
    clock: () => NOW,
    ...(history ? { history } : {}),
  });
  return { runs, told };
}

test('each final result is told once, with its slot and error line; a run still going is not', async () => {
  const backend = new StoredResults();
  const { runs, told } = tracker(backend);
  const def = definition('a');
  runs.sent(def, 'id-1', NOW - 2000, NOW - 2000);
  runs.sent(def, 'id-2', NOW - 1000, NOW - 1000);
  backend.results.set('id-1', { taskId: 'id-1', state: 'FAILURE', finishedAt: NOW, error: 'KeyError: x' });
  backend.results.set('id-2', { taskId: 'id-2', state: 'STARTED', finishedAt: null, error: null });
  await runs.poll();
  await runs.poll();
  assert.deepEqual(told, [
    { key: 'ns/a', run: { taskId: 'id-1', slot: NOW - 2000, state: 'FAILURE', error: 'KeyError: x' } },
  ]);
  backend.results.set('id-2', { taskId: 'id-2', state: 'SUCCESS', finishedAt: NOW, error: null });
  await runs.poll();
  assert.deepEqual(
    told.map((t) => [t.run.taskId, t.run.state]),
    [
      ['id-1', 'FAILURE'],
      ['id-2', 'SUCCESS'],
    ],
  );
});

test('the final results of a saved history are told again, oldest first, when a process takes it over', async () => {
  const saved: TrackedRun[] = [
    { slot: NOW - 1000, taskId: 'new', sentAt: NOW - 1000, state: 'PENDING', finishedAt: null, error: null },
    { slot: NOW - 2000, taskId: 'mid', sentAt: NOW - 2000, state: 'FAILURE', finishedAt: NOW, error: 'E' },
    { slot: NOW - 3000, taskId: 'old', sentAt: NOW - 3000, state: 'SUCCESS', finishedAt: NOW, error: null },
  ];
  const history: HistoryStore = { load: async () => saved, save: async () => {} };
  const { runs, told } = tracker(new StoredResults(), history);
  runs.sent(definition('a'), 'next', NOW, NOW);
  await settle();
  assert.deepEqual(
    told.map((t) => t.run.taskId),
    ['old', 'mid'],
  );
});
