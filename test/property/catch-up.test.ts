// catchUp All in the beat under a simulated clock, after an outage of any length: every slot of the window
// within startingDeadlineSeconds runs once, oldest first, each with its own id, and the rest count as missed.
// A file of its own: its simulated worlds come and go by the thousand, apart from the other beat properties.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileTaskSchedule } from '../../src/schedule/compile.ts';
import { runsLeft } from '../../src/schedule/run-plan.ts';
import { MAX_BACKFILL, NO_FAULTS, SimWorld, specDefinition } from './beat-sim.ts';
import { check } from './fc-config.ts';
import { REFERENCE_MS, type Spec, timeZone, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/catch-up.test.ts';
const DAY_MS = 86_400_000;

/**
 * catchUp All after an outage of `gapMs`: the beat comes back at `start` with the cursor where it stopped, and
 * must run every slot within startingDeadlineSeconds (the latest MAX_BACKFILL of them) once, oldest first, each
 * with its own id (checked by SimWorld), and count the rest as missed.
 */
async function catchUpCase(spec: Spec, zone: string, start: number, gapMs: number): Promise<string[]> {
  const def = specDefinition(spec, 'late', 'uid-late', zone);
  const cursor = start - gapMs;
  const schedule = compileTaskSchedule(def);
  // A walk of the window is the oracle, and the simulated beat sends every slot of it: keep it short (a 1 ms
  // interval over days holds millions; a thousand slots already span every catch-up path).
  const due = schedule.latest(cursor, start);
  fc.pre((due?.count ?? 0) <= 1000);
  const world = new SimWorld({ seed: 1, rates: NO_FAULTS, batchSize: 1000, start });
  const problems: string[] = [];
  try {
    await world.create(def, cursor);
    world.beat.start();
    await world.quiesce();
    const walked: number[] = [];
    for (let s = schedule.next(cursor); s !== null && s <= start; s = schedule.next(s)) walked.push(s);
    const deadline = def.startingDeadlineSeconds;
    const inWindow = deadline === undefined ? walked : walked.filter((s) => start - s <= deadline * 1000);
    const left = runsLeft(def, 0);
    const expected = inWindow.slice(-MAX_BACKFILL).slice(0, left);
    const ran = world.published.filter((p) => p.slot <= start).map((p) => p.slot);
    if (JSON.stringify(ran) !== JSON.stringify(expected))
      problems.push(
        `ran ${JSON.stringify(ran)}, expected every slot of the window once, in order: ${JSON.stringify(expected)}`,
      );
    const stored = world.store.keys.get('prop/late')?.state;
    if (expected.length < left && stored && stored.missedRunCount !== walked.length - expected.length)
      problems.push(`${stored.missedRunCount} missed, expected ${walked.length - expected.length}`);
    problems.push(...world.violations);
  } finally {
    await world.close();
  }
  return problems;
}

test(`catchUp All runs every slot of the window once, in order, after any outage (${FILE})`, async () => {
  const spec = validSpec({ clocked: 'safe' }).map((s) => ({
    ...s,
    catchUp: 'All',
    enabled: true,
    pause: null,
    jitterSeconds: null,
    startTime: null,
    endTime: null,
    // Exclusions have properties of their own (test/property/schedule-sets.test.ts); a window of excluded
    // minutes makes each case walk far.
    exclude: null,
    // A run whose message expired before it could go out is missed by design, whatever the catch-up.
    options: s.options && typeof s.options === 'object' ? { ...s.options, expires: null } : s.options,
  }));
  await check(
    FILE,
    fc.asyncProperty(
      spec,
      timeZone,
      fc.integer({ min: REFERENCE_MS - 5 * DAY_MS, max: REFERENCE_MS + 5 * DAY_MS }),
      fc.oneof(fc.integer({ min: 1, max: 600_000 }), fc.integer({ min: 1, max: 10 * DAY_MS })),
      async (s, zone, start, gap) => {
        assert.deepEqual(await catchUpCase(s, zone, start, gap), []);
      },
    ),
    100,
  );
});
