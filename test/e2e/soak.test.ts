// The soak's short form (docs/reliability.md): for each fixed seed, one round of every fault type in the seed's
// order, on the real parts, and the ledger of every slot with no forbidden class. `npm run soak` is the long form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_TYPES } from '../soak/faults.ts';
import { forbiddenCount, formatLedger } from '../soak/report.ts';
import { runSoak } from '../soak/run-soak.ts';

const SEEDS = [20261207];

for (const seed of SEEDS) {
  test(`soak, seed ${seed}: one round of every fault, every slot run once or counted`, {
    timeout: 600_000,
  }, async (t) => {
    const result = await runSoak({
      seed,
      faultMs: 0,
      rounds: 1,
      tasks: 24,
      workers: 2,
      burstSize: 6,
      log: (line) => t.diagnostic(line),
    });
    const text = formatLedger(result.ledger, `npm run soak -- --seed ${seed} (or this test)`, result.faults);
    t.diagnostic(text);
    assert.equal(result.faults.length, FAULT_TYPES.length, 'one fault of each type');
    assert.ok(result.ledger.slotsChecked > 200, `slots checked: ${result.ledger.slotsChecked}`);
    assert.equal(forbiddenCount(result.ledger), 0, text);
  });
}
