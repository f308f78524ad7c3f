// The count of failures in a row (spec.pauseAfterFailures) against a plain oracle, for any run of results: told
// in slot order in batches of any size, with the saved history told again (in order) after a takeover, the run
// state ends where one pass over the distinct results ends: FAILUREs since the last SUCCESS, held at the limit
// once reached. A resume forgives the results before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FinishedRun, RunState } from '../../src/contracts.ts';
import { applyFailureResults, isPausedByFailures } from '../../src/schedule/failure-pause.ts';
import { decodeRunStateTail, encodeRunStateTail } from '../../src/store/task-record.ts';
import { definition, runState } from '../support/fakes/definitions.ts';
import { check } from './fc-config.ts';

const FILE = 'test/property/failure-count.test.ts';
const T0 = Date.UTC(2030, 0, 1);

/** Results of runs at distinct, increasing slots. */
const results = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom('SUCCESS', 'FAILURE', 'REVOKED')), {
    maxLength: 30,
  })
  .map((runs) => {
    let slot = T0;
    return runs.map(([gap, state], i): FinishedRun => {
      slot += gap;
      return { taskId: `t${i}`, slot, state, error: state === 'FAILURE' ? 'ValueError: bad' : null };
    });
  });

/** One pass over the results, as the rule says. */
function oracle(runs: readonly FinishedRun[], limit: number, after = Number.NEGATIVE_INFINITY): number {
  let count = 0;
  for (const run of runs) {
    if (run.slot < after || count >= limit) continue;
    if (run.state === 'SUCCESS') count = 0;
    if (run.state === 'FAILURE') count += 1;
  }
  return count;
}

/** Splits the runs into consecutive batches at the given cut points. */
function batches<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const p of [...points, items.length]) {
    out.push(items.slice(from, p));
    from = p;
  }
  return out;
}

test(`batches and a replay of the history do not change the count (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(
      results,
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat(40), { maxLength: 6 }),
      fc.nat(40),
      async (runs, limit, cuts, replayFrom) => {
        const def = definition('p', { pauseAfterFailures: limit });
        let state: RunState = runState(T0);
        const apply = (batch: readonly FinishedRun[]): void => {
          // Each record goes through the Redis tail's text, as the store keeps it.
          state = decodeRunStateTail(encodeRunStateTail(applyFailureResults(def, state, batch, T0).state));
        };
        for (const batch of batches(runs, cuts)) apply(batch);
        const once = state.failures?.count ?? 0;
        assert.equal(once, oracle(runs, limit));
        assert.equal(isPausedByFailures(def, state), once >= limit);
        // A takeover: the saved history (its newest part) is told again, oldest first.
        apply(runs.slice(replayFrom % (runs.length + 1)));
        assert.equal(state.failures?.count ?? 0, once, 'a result told again is not counted again');
      },
    ),
    300,
  );
});

test(`a resume lifts the pause once and forgives the results before it (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(results, fc.integer({ min: 1, max: 4 }), fc.nat(30), async (runs, limit, at) => {
      const split = at % (runs.length + 1);
      const resumedAt = (runs[split]?.slot ?? T0 + 3_600_000) - 0.5;
      const def = definition('p', { pauseAfterFailures: limit });
      const before = applyFailureResults(def, runState(T0), runs.slice(0, split), T0).state;
      const resumed = { ...def, resumedAt };
      const now = resumedAt + 10;
      const lifted = applyFailureResults(resumed, before, runs, now);
      assert.equal(lifted.liftedAt !== undefined, (before.failures?.count ?? 0) >= limit);
      assert.equal(lifted.state.failures?.count ?? 0, oracle(runs, limit, resumedAt));
      // Applied once: the same definition again changes nothing more.
      const again = applyFailureResults(resumed, lifted.state, [], now);
      assert.deepEqual(again.state, lifted.state);
      assert.equal(again.liftedAt, undefined);
    }),
    300,
  );
});

test(`results told late or out of order: only those newer than every one counted before are counted (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(
      results.chain((runs) =>
        fc.tuple(fc.constant(runs), fc.shuffledSubarray([...runs, ...runs], { minLength: runs.length })),
      ),
      fc.integer({ min: 1, max: 6 }),
      async ([, told], limit) => {
        const def = definition('p', { pauseAfterFailures: limit });
        let state: RunState = runState(T0);
        let newest = Number.NEGATIVE_INFINITY;
        const counted: FinishedRun[] = [];
        for (const run of told) {
          state = applyFailureResults(def, state, [run], T0).state;
          if (run.state === 'REVOKED' || run.slot <= newest) continue;
          newest = run.slot;
          counted.push(run);
        }
        assert.equal(state.failures?.count ?? 0, oracle(counted, limit));
      },
    ),
    300,
  );
});
