// Properties of the core over the whole input space: every generated valid spec goes validate → compile →
// Beat (plan, build, check) → a recording dispatcher, under a simulated clock over simulated days, with edits,
// disables, deletes, re-creations, stalls and failing publishes. And the schedule engine on its own.
// A failure prints fast-check's seed, path and shrunk case, and the FC_SEED command that replays it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileTaskSchedule } from '../../src/schedule/compile.ts';
import { initialCursor } from '../../src/schedule/cursor.ts';
import { IntervalSchedule } from '../../src/schedule/interval-schedule.ts';
import type { Schedule } from '../../src/schedule/schedule.ts';
import { NO_FAULTS, type Outcome, SimWorld, specDefinition } from './beat-sim.ts';
import { check } from './fc-config.ts';
import {
  REFERENCE_MS,
  type Spec,
  type SpecOptions,
  schemaLeafPaths,
  timeZone,
  validSpec,
} from './spec-arbitrary.ts';

const FILE = 'test/property/beat.test.ts';
const DAY_MS = 86_400_000;
const NS = 'prop';

type Action =
  | { kind: 'edit'; spec: Spec }
  | { kind: 'disable' }
  | { kind: 'enable' }
  | { kind: 'delete' }
  | { kind: 'recreate'; spec: Spec }
  | { kind: 'stall'; ms: number };

interface Case {
  specs: Spec[];
  start: number;
  defaultZone: string;
  horizonDays: number;
  steps: number;
  batchSize: number;
  outcomeSeed: number;
  faulty: boolean;
  events: { step: number; task: number; action: Action }[];
}

function caseOf(specOptions: SpecOptions): fc.Arbitrary<Case> {
  const spec = validSpec(specOptions);
  const action: fc.Arbitrary<Action> = fc.oneof(
    spec.map((s) => ({ kind: 'edit' as const, spec: s })),
    fc.constant({ kind: 'disable' as const }),
    fc.constant({ kind: 'enable' as const }),
    fc.constant({ kind: 'delete' as const }),
    spec.map((s) => ({ kind: 'recreate' as const, spec: s })),
    fc
      .oneof(fc.integer({ min: 1, max: 120_000 }), fc.integer({ min: 1, max: 400 * DAY_MS }))
      .map((ms) => ({ kind: 'stall' as const, ms })),
  );
  return fc.record({
    specs: fc.array(spec, { minLength: 1, maxLength: 3 }),
    start: fc.integer({ min: REFERENCE_MS - 5 * DAY_MS, max: REFERENCE_MS + 5 * DAY_MS }),
    defaultZone: fc.oneof(fc.constant('UTC'), timeZone),
    horizonDays: fc.constantFrom(1, 3, 30, 800, 40_000),
    steps: fc.integer({ min: 5, max: 40 }),
    batchSize: fc.constantFrom(1, 2, 1000),
    outcomeSeed: fc.integer(),
    faulty: fc.boolean(),
    events: fc.array(fc.record({ step: fc.nat(40), task: fc.nat(2), action }), { maxLength: 5 }),
  });
}

const FAULTS: Record<Outcome, number> = {
  'publish-failed': 0.15,
  conflict: 0.1,
  missing: 0.05,
  throw: 0.05,
  ok: 0,
};

/** Runs one case and returns what broke, as text (empty: every invariant held). */
async function runCase(c: Case): Promise<string[]> {
  const world = new SimWorld({
    seed: c.outcomeSeed,
    rates: c.faulty ? FAULTS : NO_FAULTS,
    batchSize: c.batchSize,
    start: c.start,
  });
  const problems: string[] = [];
  try {
    const keys = c.specs.map((_, i) => `${NS}/t${i}`);
    let uids = 0;
    const generation = new Map<string, number>();
    for (const [i, spec] of c.specs.entries()) {
      const def = specDefinition(spec, `t${i}`, `uid-${uids++}`, c.defaultZone);
      await world.create(def, initialCursor(def, world.now));
    }
    world.beat.start();
    const limit = c.start + c.horizonDays * DAY_MS;
    for (let s = 0; s < c.steps && world.now < limit; s++) {
      let stall: number | undefined;
      for (const e of c.events.filter((ev) => ev.step === s)) {
        const key = keys[e.task % keys.length]!;
        const cur = world.current.get(key)!;
        const name = key.slice(NS.length + 1);
        const gen = (generation.get(key) ?? 1) + 1;
        generation.set(key, gen);
        switch (e.action.kind) {
          case 'edit':
            await world.edit(key, specDefinition(e.action.spec, name, cur.def.uid, c.defaultZone, gen));
            break;
          case 'disable':
          case 'enable':
            await world.edit(key, { ...cur.def, generation: gen, enabled: e.action.kind === 'enable' });
            break;
          case 'delete':
            await world.delete(key);
            break;
          case 'recreate': {
            await world.delete(key);
            const def = specDefinition(e.action.spec, name, `uid-${uids++}`, c.defaultZone);
            await world.create(def, initialCursor(def, world.now));
            break;
          }
          case 'stall':
            stall = e.action.ms;
        }
      }
      await world.step(limit, stall);
      if (world.unhandled.length > 0) break;
    }
    const end = world.now;
    const due = [...world.current.keys()].map((key) => ({ key, next: world.beat.nextRunAt(key) }));
    await world.close();
    for (const reason of world.unhandled) problems.push(`unhandled rejection: ${String(reason)}`);
    problems.push(
      ...world.violations,
      ...world.rejected.map((r) => `message refused for a valid spec: ${r}`),
    );

    const slots = new Map<string, number[]>();
    for (const p of world.published) {
      const id = `${p.key}#${p.uid}`;
      const list = slots.get(id) ?? [];
      if (list.includes(p.slot)) problems.push(`${id}: slot ${p.slot} published twice`);
      else if (list.length > 0 && p.slot <= list.at(-1)!)
        problems.push(`${id}: slot ${p.slot} after slot ${list.at(-1)}: slots must strictly increase`);
      list.push(p.slot);
      slots.set(id, list);
    }
    for (const [key, cur] of world.current) {
      const stored = world.store.keys.get(key)?.state;
      if (cur.deleted || cur.version !== 0 || !stored) continue;
      // Never edited: every slot from the first cursor to the last one ran once or was counted as missed.
      const runs = slots.get(`${key}#${cur.def.uid}`)?.length ?? 0;
      if (stored.totalRunCount !== runs)
        problems.push(`${key}: total_run_count ${stored.totalRunCount}, but ${runs} slots were published`);
      const elapsed = cur.schedule.latest(cur.initialCursor, stored.cursor)?.count ?? 0;
      // Slots inside a pause are counted in the stored run state, like runs and missed slots.
      const paused = stored.pausedRunCount;
      if (stored.totalRunCount + stored.missedRunCount + paused !== elapsed)
        problems.push(
          `${key}: ${stored.totalRunCount} runs + ${stored.missedRunCount} missed + ${paused} paused, but ${elapsed} slots up to the cursor`,
        );
      if ((cur.def.oneOff || cur.def.schedule.kind === 'clocked') && runs > 1)
        problems.push(`${key}: a one-off task ran ${runs} times`);
      if (cur.def.maxRuns !== undefined && runs > cur.def.maxRuns)
        problems.push(`${key}: ran ${runs} times, above maxRuns ${cur.def.maxRuns}`);
      const next = due.find((d) => d.key === key)?.next ?? null;
      if (!c.faulty && next !== null && next <= end)
        problems.push(`${key}: slot ${next} is due (now ${end}) but was not acted on`);
    }
  } catch (error) {
    await world.close();
    problems.push(`threw: ${(error as Error).stack ?? String(error)}`);
  }
  return problems;
}

const beatProperty = (options: SpecOptions) =>
  fc.asyncProperty(caseOf(options), async (c) => {
    const problems = await runCase(c);
    assert.deepEqual(problems, []);
  });

test(`every valid spec runs in the beat: at most once per slot, ids per slot, safe messages, edits on the next slot (${FILE})`, async () => {
  // Clocked times outside 1684-2255 have a property of their own below.
  await check(FILE, beatProperty({ clocked: 'safe' }), 150);
});

test(`sub-millisecond intervals run in the beat like any other (${FILE})`, async () => {
  // Every microsecond interval that is not whole milliseconds, which the property above draws rarely.
  await check(FILE, beatProperty({ subMillisecond: true, kinds: ['interval'], clocked: 'safe' }), 40);
});

test(`clocked times before 1684 or after 2255 run in the beat (${FILE})`, async () => {
  await check(FILE, beatProperty({ kinds: ['clocked'], clocked: 'far' }), 40);
});

// ── the schedule engine ──────────────────────────────────────────────────────────────────────────────────

const compiled = (subMillisecond: boolean) =>
  fc
    .tuple(
      validSpec({ subMillisecond, kinds: ['interval', 'crontab', 'cron', 'clocked', 'solar'] }),
      timeZone,
    )
    .map(([spec, zone]) => {
      const def = specDefinition(spec, 's', 'u', zone);
      // The task's schedule: several schedules merged, exclusions left out, cut at endTime.
      return { def, schedule: compileTaskSchedule(def) };
    });

/** 2^42 ms (May 2109): beyond it an epoch-ms double no longer holds every microsecond. */
const MICROSECOND_EXACT_UNTIL = 2 ** 42;

const instant = (max: number) =>
  fc.oneof(
    fc.integer({ min: REFERENCE_MS - 400 * DAY_MS, max: REFERENCE_MS + 400 * DAY_MS }),
    fc.integer({ min: Date.UTC(1970, 0, 1), max }),
  );

const increasing = (schedule: Schedule, from: number): void => {
  let t = from;
  for (let i = 0; i < 25; i++) {
    const n = schedule.next(t);
    if (n === null) return;
    assert.ok(n > t, `next(${t}) = ${n} is not after it`);
    t = n;
  }
};

/** b lies between the n-th and the (n+1)-th slot after a: latest(a, b) must be the n-th, counted n. */
const agrees = (schedule: Schedule, a: number, n: number, frac: number): void => {
  const walked: number[] = [];
  let t = a;
  for (let i = 0; i <= n; i++) {
    const s = schedule.next(t);
    if (s === null) break;
    walked.push(s);
    t = s;
  }
  const nth = n === 0 ? a : walked[n - 1];
  if (nth === undefined) return;
  const after = walked[n];
  const b = after === undefined ? nth + DAY_MS : nth + Math.floor((after - nth) * frac);
  if (after !== undefined && b >= after) return;
  const got = schedule.latest(a, b);
  if (n === 0) assert.equal(got, null, `latest(${a}, ${b}) should be empty`);
  else assert.deepEqual(got, { slot: nth, count: n }, `latest(${a}, ${b})`);
};

const window = fc.tuple(
  fc.integer({ min: 0, max: 30 }),
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
);

test(`next() strictly increases (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(compiled(false), instant(Date.UTC(2200, 0, 1)), ({ schedule }, from) =>
      increasing(schedule, from),
    ),
    300,
  );
});

test(`latest(a, b) agrees with iterating next() over short windows (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(compiled(false), instant(Date.UTC(2200, 0, 1)), window, ({ schedule }, a, [n, frac]) =>
      agrees(schedule, a, n, frac),
    ),
    300,
  );
});

test(`sub-millisecond interval grids: next() increases and latest() agrees, until May 2109 (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(
      compiled(true),
      instant(MICROSECOND_EXACT_UNTIL - DAY_MS),
      window,
      ({ schedule }, a, [n, frac]) => {
        increasing(schedule, a);
        agrees(schedule, a, n, frac);
      },
    ),
    200,
  );
});

test(`sub-millisecond interval grids stay exact after May 2109 (${FILE})`, {
  todo: 'defect: from 2^42 ms on, an epoch-ms double cannot hold every microsecond: next() and latest() drift apart (seed 871784135: interval 69063 µs from 4398046509792; seed 864482889: 1005 µs from 4398046511099)',
}, async () => {
  await check(
    FILE,
    fc.property(
      fc.integer({ min: 1001, max: 100_000 }).filter((us) => us % 1000 !== 0),
      fc.integer({ min: MICROSECOND_EXACT_UNTIL - DAY_MS, max: Date.UTC(2200, 0, 1) }),
      window,
      (every, a, [n, frac]) => {
        const schedule = new IntervalSchedule(every, 'microseconds');
        increasing(schedule, a);
        agrees(schedule, a, n, frac);
      },
    ),
    200,
  );
});

test(`the valid-spec generator reaches every field of the schema (${FILE})`, () => {
  const seen = new Set<string>();
  const walk = (value: unknown, path: string): void => {
    seen.add(path);
    if (value && typeof value === 'object' && !Array.isArray(value) && !/kwargs|headers/.test(path))
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  for (const spec of fc.sample(validSpec(), { numRuns: 400, seed: 7 })) walk(spec, 'spec');
  assert.deepEqual(
    schemaLeafPaths().filter((p) => !seen.has(p)),
    [],
  );
});
