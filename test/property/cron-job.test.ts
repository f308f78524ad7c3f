// `cron` strings against an independent implementation of a Kubernetes CronJob's rule: robfig/cron v3, the library
// the API server validates with and the CronJob controller computes next runs with, built as a small Go oracle by
// test/testbed/build-binaries.sh. Thousands of generated strings (every field syntax, names, macros, @every), in
// zones with and without DST (a 30-minute one included), from instants around their DST changes:
// - the verdicts and messages of the parser are the API server's;
// - the next runs are the controller's wherever no DST change is within a day;
// - around a DST change the rules differ on purpose, and the project's documented rule is asserted instead: robfig
//   skips a wall time that a spring-forward gap removes and runs a fixed time at both passes of a repeated
//   autumn hour; here the skipped time runs once, shifted by the gap, and a repeated time runs once (at both
//   passes only when the hour field is every hour). The expected runs there are built from robfig's matching wall
//   times (the oracle read in UTC, a zone without DST) and the zone's offsets from Intl.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { cronDefinition, parseCronJobSchedule } from '../../src/schedule/cron-job-parse.ts';
import { WallCalendar } from '../../src/schedule/wall-calendar.ts';
import { cronOracle } from '../testbed/binaries.ts';
import { cronJobString } from './cron-job-arbitrary.ts';
import { params, replayHint } from './fc-config.ts';

const FILE = 'test/property/cron-job.test.ts';
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'] as const;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Runs compared per case. */
const RUNS = 8;

interface Question {
  spec: string;
  zone: string;
  from: number;
  count: number;
}
interface Answer {
  runs?: number[];
  error?: string;
}

/** Asks the oracle every question in one process: one JSON line in, one out. */
async function ask(questions: readonly Question[]): Promise<Answer[]> {
  const child = spawn(await cronOracle(), [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(questions.map((q) => JSON.stringify(q)).join('\n'));
  const code = await exited;
  assert.equal(code, 0, `cron-oracle failed: ${err}`);
  const answers =
    out.trim() === ''
      ? []
      : out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Answer);
  assert.equal(answers.length, questions.length);
  return answers;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset at an instant, read from Intl (independently of src/schedule/zone.ts). */
function offsetAt(zone: string, ms: number): number {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ms)) p[part.type] = Number(part.value);
  return (
    Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(ms / 1000) * 1000
  );
}

/** Offset changes of a zone in 2025-2080 (to the hour): sampled daily, then bisected. */
function changesOf(zone: string): number[] {
  const out: number[] = [];
  for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2080, 0, 1); t += DAY_MS) {
    if (offsetAt(zone, t) === offsetAt(zone, t + DAY_MS)) continue;
    let lo = t;
    let hi = t + DAY_MS;
    while (hi - lo > HOUR_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / HOUR_MS) * HOUR_MS;
      if (offsetAt(zone, mid) === offsetAt(zone, t)) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}

/**
 * The documented rule applied to matching wall times (epoch ms of wall fields as UTC): a real wall time runs at its
 * instant; a skipped one runs once at the wall time read with the old offset (the same slot as a real matching
 * time there); a repeated one at its first pass, or at both when the hour field is every hour.
 */
function ruleInstants(zone: string, walls: readonly number[], everyHour: boolean): number[] {
  const out = new Set<number>();
  for (const w of walls) {
    const before = offsetAt(zone, w - DAY_MS);
    const after = offsetAt(zone, w + DAY_MS);
    const first = w - before;
    const second = w - after;
    const real = [first, second].filter(
      (u, i) => (i === 0 || after !== before) && offsetAt(zone, u) === (i === 0 ? before : after),
    );
    if (real.length === 0) out.add(first);
    else if (real.length === 2 && everyHour) for (const u of real) out.add(u);
    else out.add(Math.min(...real));
  }
  return [...out].sort((a, b) => a - b);
}

function oursFrom(expression: string, zone: string, from: number, count: number): number[] {
  const schedule = compileSchedule(cronDefinition(expression), zone);
  const runs: number[] = [];
  for (let t = schedule.next(from); t !== null && runs.length < count; t = schedule.next(t)) runs.push(t);
  return runs;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A start instant: around a DST change of the zone (mostly) or anywhere in 2025-2030; never inside a fold. */
function startArbitrary(zone: string, changes: readonly number[]): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2030, 11, 1) });
  const around =
    changes.length === 0
      ? anywhere
      : fc
          .tuple(fc.constantFrom(...changes), fc.integer({ min: -4 * DAY_MS, max: DAY_MS }))
          .map(([t, d]) => t + d);
  // A start inside a repeated hour is a cursor in the fold, which has a rule of its own (test/unit/schedule).
  return fc
    .oneof(around, anywhere)
    .filter((t) => offsetAt(zone, t - 2 * HOUR_MS) === offsetAt(zone, t + 2 * HOUR_MS));
}

interface Case {
  expression: string;
  zone: string;
  start: number;
}

const CHANGES = new Map<string, number[]>(ZONES.map((z) => [z, changesOf(z)]));
/** Times of day in the hours DST changes happen in, so that many cases meet a gap or a fold. */
const dstHours: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('0', '30', '*/15', '15,45', '*', '?/20'),
    fc.constantFrom('1', '2', '3', '1-3', '*', '2,3', '1/1'),
  )
  .map(([minute, hour]) => `${minute} ${hour} * * *`);
const caseArbitrary: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof({ arbitrary: cronJobString, weight: 3 }, { arbitrary: dstHours, weight: 1 }),
    fc.constantFrom(...ZONES),
  )
  .chain(([expression, zone]) =>
    startArbitrary(zone, CHANGES.get(zone)!).map((start) => ({ expression, zone, start })),
  );

/** Whether the zone's offset changes within a day of the span [from, to]. */
function changeNear(zone: string, from: number, to: number): boolean {
  return CHANGES.get(zone)!.some((t) => t >= from - DAY_MS && t <= to + DAY_MS);
}

test('generated cron strings: the parser is the API server, next runs are the controller outside DST changes and the documented rule around them', async () => {
  const cases = fc.sample(caseArbitrary, params(3000)).filter((c) => {
    // Strings that never match a date (an empty field, 30 February) are refused by the validator (a CronJob
    // accepts them and never runs); this is the validator's test.
    const parsed = parseCronJobSchedule(c.expression);
    if (!parsed.ok || parsed.schedule.kind === 'every') return true;
    const { sets, eitherDay } = parsed.schedule;
    return (
      Object.values(sets).every((v) => v.length > 0) &&
      new WallCalendar(sets, { eitherDay }).nextWall(Date.UTC(2000, 0, 1)) !== null
    );
  });
  // Per case: the controller's next run from the start and from each of our runs (so that one difference does not
  // shift the rest), and the matching wall times (robfig in UTC) from two hours of wall time before the start (no
  // earlier wall time can run after it).
  const ours = cases.map((c) => oursFrom(c.expression, c.zone, c.start, RUNS));
  const questions: Question[] = [];
  for (const [i, c] of cases.entries()) {
    const wallStart = c.start + offsetAt(c.zone, c.start) - 2 * HOUR_MS;
    questions.push({ spec: c.expression, zone: 'UTC', from: wallStart, count: RUNS + 130 });
    for (const from of [c.start, ...ours[i]!])
      questions.push({ spec: c.expression, zone: c.zone, from, count: 1 });
  }
  const answers = await ask(questions);
  let at = 0;
  let nearDst = 0;
  let differedNearDst = 0;
  for (const [i, c] of cases.entries()) {
    const where = `${JSON.stringify(c.expression)} in ${c.zone} from ${iso(c.start)}; ${replayHint(FILE)}`;
    const walls = answers[at++]!;
    const controller = ours[i]!.concat(Number.NaN).map(() => answers[at++]!);
    const parsed = parseCronJobSchedule(c.expression);
    assert.ok(parsed.ok, `${where}: refused: ${parsed.ok ? '' : parsed.message}`);
    assert.equal(walls.error, undefined, `${where}: robfig refused it: ${walls.error}`);
    const mine = ours[i]!;
    assert.equal(mine.length, RUNS, `${where}: fewer runs than asked`);
    // Where both rules hold (no DST change within a day of the search), the controller's next run is ours.
    for (const [k, run] of mine.entries()) {
      const from = k === 0 ? c.start : mine[k - 1]!;
      const theirs = controller[k]!.runs?.[0];
      if (theirs === undefined) continue; // robfig looks five years ahead only
      if (parsed.schedule.kind === 'calendar' && changeNear(c.zone, from, Math.max(run, theirs))) {
        nearDst++;
        if (theirs !== run) differedNearDst++;
        continue;
      }
      assert.equal(iso(run), iso(theirs), `${where}: run ${k + 1}, the next after ${iso(from)}`);
    }
    if (parsed.schedule.kind === 'every') continue;
    // Everywhere, DST changes included: the documented rule over robfig's matching wall times.
    const wallRuns = walls.runs ?? [];
    const expected = ruleInstants(c.zone, wallRuns, parsed.schedule.sets.hour.length === 24).filter(
      (t) => t > c.start,
    );
    // With fewer wall times than asked (robfig looks five years ahead), only what they cover is known.
    const known =
      wallRuns.length === RUNS + 130 ? expected : expected.filter((t) => t < (wallRuns.at(-1) ?? 0) - DAY_MS);
    const n = Math.min(RUNS, known.length);
    assert.deepEqual(
      mine.slice(0, n).map(iso),
      known.slice(0, n).map(iso),
      `${where}: the documented DST rule`,
    );
  }
  assert.ok(cases.length >= 2500, `only ${cases.length} cases`);
  // The cases reach DST changes, and the two rules do differ there (so the rule above was exercised).
  assert.ok(nearDst > 200, `only ${nearDst} cases ran near a DST change`);
  assert.ok(
    differedNearDst > 20,
    `only ${differedNearDst} cases differed from the controller near a DST change`,
  );
});

/** Strings near the grammar: its pieces in any order, so that most are refused for one reason or another. */
const nearCron: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(
      fc.constantFrom(
        ...[
          '0',
          '5',
          '07',
          '+3',
          '-',
          '-1',
          '60',
          '24',
          '32',
          '13',
          '7',
          '99999999999999999999',
          '*',
          '?',
          '/',
          '/0',
        ],
        ...[
          ',',
          ',,',
          ' ',
          '  ',
          '\t',
          'jan',
          'DEC',
          'mon',
          'Sun',
          'foo',
          'x',
          '@',
          '@every ',
          '@daily',
          'h',
          's',
        ],
        ...['1.5', '.', 'ms', 'L', '#', 'W', '1-5', '5-1', '*/2', '1/2/3', '1-2-3'],
      ),
      { minLength: 1, maxLength: 14 },
    )
    .map((parts) => parts.join('')),
  cronJobString.chain((s) =>
    fc
      .tuple(fc.nat(s.length), fc.constantFrom('', ' ', '-', '/', ',', '*', '7', '@', 'x'))
      .map(([at, piece]) => s.slice(0, at) + piece + s.slice(at + 1)),
  ),
);

test('strings near the grammar: refused exactly when the API server refuses them, with its message', async () => {
  // Left out on purpose: an @every beyond 36500 days (refused here, the interval limit).
  const strings = fc.sample(nearCron, params(3000)).filter((s) => s !== '');
  const answers = await ask(strings.map((spec) => ({ spec, zone: 'UTC', from: 0, count: 0 })));
  let refused = 0;
  for (const [i, spec] of strings.entries()) {
    const ours = parseCronJobSchedule(spec);
    const theirs = answers[i]!;
    const where = `${JSON.stringify(spec)}; ${replayHint(FILE)}`;
    if (theirs.error === undefined)
      assert.ok(ours.ok, `${where}: refused here: ${ours.ok ? '' : ours.message}`);
    else {
      refused++;
      assert.ok(!ours.ok, `${where}: accepted here, refused by the API server: ${theirs.error}`);
      assert.equal(ours.message, theirs.error, where);
    }
  }
  assert.ok(
    refused > strings.length / 4 && refused < strings.length,
    `${refused} of ${strings.length} refused`,
  );
});
