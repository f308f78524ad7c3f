// Random crontabs against a minute-by-minute scan over two years in five zones. The scan is the definition:
// every UTC minute whose wall clock (from Intl, independently of the engine) matches is a slot, except that a
// wall time repeated by a fall-back fires once unless the hour field is every hour: at its first occurrence, or,
// when the cursor lies in that fold after a matching time's first occurrence (and is not a slot), every matching
// time of the fold fires at its second occurrence. A wall time skipped by a spring-forward gap is a slot shifted
// forward by the gap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScheduleDefinition } from '../../../src/api/types.ts';
import { compileSchedule, crontabSets } from '../../../src/schedule/compile.ts';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);
const END = Date.UTC(2028, 0, 1);
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];

/** Wall-clock fields of every UTC minute of [START, END) in a zone, packed, plus the spring-forward gaps. */
interface ZoneScan {
  fields: Int32Array;
  firstOccurrence: Uint8Array;
  gaps: { index: number; firstSkippedWall: number; minutes: number }[];
  /** Instants where the offset changes (spring-forward and fall-back). */
  edges: number[];
  /** Fall-backs: the repeated wall times are first shown from `firstPass`, again from `secondPass`. */
  folds: { firstPass: number; secondPass: number; minutes: number }[];
}

function pack(wall: number): number {
  const d = new Date(wall);
  return (
    d.getUTCMinutes() |
    (d.getUTCHours() << 6) |
    (d.getUTCDate() << 11) |
    ((d.getUTCMonth() + 1) << 16) |
    (d.getUTCDay() << 20)
  );
}

function scanZone(zone: string): ZoneScan {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const wallOf = (ms: number): number => {
    const p = Object.fromEntries(format.formatToParts(ms).map((x) => [x.type, x.value]));
    return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
  };
  const n = (END - START) / MINUTE;
  const fields = new Int32Array(n);
  const firstOccurrence = new Uint8Array(n);
  const gaps: ZoneScan['gaps'] = [];
  const edges: number[] = [];
  const folds: ZoneScan['folds'] = [];
  let previousWall = Number.NEGATIVE_INFINITY;
  let maxWall = Number.NEGATIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const u = START + i * MINUTE;
    // Offsets in these zones change only on quarter hours (UTC), so Intl is asked once per quarter hour.
    if (i % 15 === 0) offset = wallOf(u) - u;
    const wall = u + offset;
    fields[i] = pack(wall);
    if (i > 0 && wall !== previousWall + MINUTE) edges.push(u);
    if (i > 0 && wall <= previousWall) {
      const minutes = (previousWall + MINUTE - wall) / MINUTE;
      folds.push({ firstPass: u - minutes * MINUTE, secondPass: u, minutes });
    }
    previousWall = wall;
    if (i > 0 && wall > maxWall + MINUTE) {
      gaps.push({ index: i, firstSkippedWall: maxWall + MINUTE, minutes: (wall - maxWall) / MINUTE - 1 });
    }
    if (wall > maxWall) {
      firstOccurrence[i] = 1;
      maxWall = wall;
    }
  }
  return { fields, firstOccurrence, gaps, edges, folds };
}

function matcher(def: Extract<ScheduleDefinition, { kind: 'crontab' }>): (packed: number) => boolean {
  const sets = crontabSets(def);
  const bits = (values: readonly number[]): boolean[] => {
    const out: boolean[] = [];
    for (const v of values) out[v] = true;
    return out;
  };
  const [mi, h, dom, mo, dow] = [
    sets.minute,
    sets.hour,
    sets.dayOfMonth,
    sets.monthOfYear,
    sets.dayOfWeek,
  ].map(bits);
  return (p) =>
    !!mi![p & 63] &&
    !!h![(p >> 6) & 31] &&
    !!dom![(p >> 11) & 31] &&
    !!mo![(p >> 16) & 15] &&
    !!dow![(p >> 20) & 7];
}

/** The slots of a crontab as the scan defines them; `from(origin)` gives those a cursor at `origin` sees. */
interface Reference {
  /** The slots seen from a cursor outside every fold. */
  base: number[];
  from(origin: number): number[];
}

function reference(scan: ZoneScan, matches: (packed: number) => boolean, everyHour: boolean): Reference {
  const slots = new Set<number>();
  for (let i = 0; i < scan.fields.length; i++) {
    if ((everyHour || scan.firstOccurrence[i]) && matches(scan.fields[i]!)) slots.add(START + i * MINUTE);
  }
  for (const gap of scan.gaps) {
    for (let k = 0; k < gap.minutes; k++) {
      if (matches(pack(gap.firstSkippedWall + k * MINUTE))) slots.add(START + (gap.index + k) * MINUTE);
    }
  }
  const base = [...slots].sort((a, b) => a - b);
  const passes = scan.folds.map((fold) => {
    const pass = (start: number): number[] => {
      const out: number[] = [];
      for (let k = 0; k < fold.minutes; k++) {
        const u = start + k * MINUTE;
        if (matches(scan.fields[(u - START) / MINUTE]!)) out.push(u);
      }
      return out;
    };
    return { fold, first: pass(fold.firstPass), second: pass(fold.secondPass) };
  });
  return {
    base,
    from(origin) {
      if (everyHour) return base;
      for (const { fold, first, second } of passes) {
        const end = fold.secondPass + fold.minutes * MINUTE;
        if (origin < fold.firstPass || origin >= end) continue;
        const deferred =
          origin >= fold.secondPass || (first.some((u) => u < origin) && !first.includes(origin));
        if (!deferred) return base;
        const dropped = new Set(first);
        return [...base.filter((u) => !dropped.has(u)), ...second].sort((a, b) => a - b);
      }
      return base;
    },
  };
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sunday', 'FRIDAY'];

function randomField(rnd: () => number, min: number, max: number, names: boolean, sparse: boolean): string {
  const pick = (): number => min + Math.floor(rnd() * (max - min + 1));
  const token = (v: number): string => (names && rnd() < 0.4 ? DAYS[v]! : String(v));
  const part = (): string => {
    const r = rnd();
    if (sparse) {
      // Few values per hour keep two years of slots small; the range may wrap (58-1).
      const a = pick();
      return r < 0.6 ? String(a) : `${a}-${(a + 1 + Math.floor(rnd() * 3)) % (max + 1)}`;
    }
    if (r < 0.35) return token(pick());
    if (r < 0.55) return `${token(pick())}-${token(pick())}`; // may wrap
    if (r < 0.7) return `${token(pick())}-${token(pick())}/${1 + Math.floor(rnd() * 4)}`;
    if (r < 0.8 && !sparse) return `*/${1 + Math.floor(rnd() * 7)}`;
    return token(pick());
  };
  if (!sparse && rnd() < 0.35) return '*';
  const parts = [part()];
  while (rnd() < 0.3) parts.push(part());
  return parts.join(',');
}

function randomCrontab(rnd: () => number): Extract<ScheduleDefinition, { kind: 'crontab' }> {
  return {
    kind: 'crontab',
    minute: randomField(rnd, 0, 59, false, true),
    hour: randomField(rnd, 0, 23, false, false),
    dayOfMonth: rnd() < 0.6 ? '*' : randomField(rnd, 1, 31, false, false),
    monthOfYear: rnd() < 0.6 ? '*' : randomField(rnd, 1, 12, false, false),
    dayOfWeek: rnd() < 0.5 ? '*' : randomField(rnd, 0, 6, true, false),
  };
}

/** Crontabs aimed at DST edges: gap and fold hours in all zones, Lord Howe's half-hour shift. */
const FIXED: string[] = [
  '30 2 * * *',
  '*/15 1-3 * * *',
  '0,20,35 2 * * *',
  '30 1-2 * * *',
  '15 2 * * 0',
  '59 1 * * *',
  '0 0 * * *',
  // Every hour: the cadence runs on through both passes of a fold.
  '*/15 * * * *',
  '*/20 * * * *',
  '*/10 0-23 * * *',
  '7,37 * * * 0',
  // A fixed hour inside the fold (New York and Berlin repeat 01:00/02:00, Lord Howe 01:30-02:00).
  '30 1 * * *',
  '0,30 1 * * *',
  '*/10 1 * * *',
  '45 1,2 * * *',
];

function fromCron(cron: string): Extract<ScheduleDefinition, { kind: 'crontab' }> {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = cron.split(' ') as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { kind: 'crontab', minute, hour, dayOfMonth, monthOfYear, dayOfWeek };
}

function lastAtOrBefore(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo; // how many slots are <= t
}

for (const zone of ZONES) {
  test(`random crontabs over two years in ${zone} equal a minute-by-minute scan`, () => {
    const scan = scanZone(zone);
    // Two springs and two autumns in the DST zones: the edges below are really exercised.
    assert.equal(scan.edges.length, zone === 'UTC' || zone === 'Asia/Kolkata' ? 0 : 4);
    const rnd = random(Number(process.env.BRUTE_FORCE_SEED ?? 0xc0ffee) ^ zone.length);
    const crontabs = [...FIXED.map(fromCron)];
    while (crontabs.length < FIXED.length + 14) {
      const c = randomCrontab(rnd);
      if (reference(scan, matcher(c), false).base.length > 0) crontabs.push(c);
    }
    for (const def of crontabs) {
      const label = `${zone} ${def.minute} ${def.hour} ${def.dayOfMonth} ${def.monthOfYear} ${def.dayOfWeek}`;
      const ref = reference(scan, matcher(def), crontabSets(def).hour.length === 24);
      const expected = ref.base;
      const schedule = compileSchedule(def, zone);
      const got: number[] = [];
      for (let t = schedule.next(START - 1); t !== null && t < END; t = schedule.next(t)) got.push(t);
      assert.deepEqual(got, expected, label);
      // latest() over random windows, short and long, and windows starting or ending next to a DST change.
      const windows: [number, number][] = [];
      for (let k = 0; k < 40; k++) {
        const a = START + Math.floor(rnd() * (END - START - 1));
        const span = rnd() < 0.5 ? Math.floor(rnd() * 3 * 3_600_000) : Math.floor(rnd() * (END - a));
        windows.push([a, Math.min(END - 1, a + span)]);
      }
      for (const edge of scan.edges) {
        for (let k = 0; k < 6; k++) {
          const a = edge + Math.floor((rnd() - 0.5) * 4 * 3_600_000);
          const b =
            k < 3
              ? edge + Math.floor((rnd() - 0.3) * 4 * 3_600_000)
              : a + Math.floor(rnd() * 40 * 86_400_000);
          if (b > a) windows.push([a, Math.min(END - 1, b)]);
        }
      }
      // Cursors inside each fold: both passes, exactly on first-pass slots, one millisecond off them.
      for (const fold of scan.folds) {
        const origins = [fold.firstPass - 1, fold.firstPass, fold.secondPass - 1, fold.secondPass];
        for (let k = 0; k < 4; k++)
          origins.push(fold.firstPass + Math.floor(rnd() * 2 * fold.minutes * MINUTE));
        for (const u of ref.from(fold.firstPass - 1)) {
          if (u >= fold.firstPass && u < fold.secondPass) origins.push(u, u + 1);
        }
        for (const a of origins) {
          const seen = ref.from(a).filter((u) => u > a && u < a + 2 * 86_400_000);
          const walked: number[] = [];
          for (let t = schedule.next(a); t !== null && t < a + 2 * 86_400_000; t = schedule.next(t))
            walked.push(t);
          assert.deepEqual(walked, seen, `${label} next() from ${new Date(a).toISOString()}`);
          windows.push(
            [a, a + Math.floor(rnd() * 3 * 3_600_000)],
            [a, a + Math.floor(rnd() * 40 * 86_400_000)],
          );
        }
      }
      for (const [a, b] of windows) {
        const from = ref.from(a);
        const count = lastAtOrBefore(from, b) - lastAtOrBefore(from, a);
        const want = count === 0 ? null : { slot: from[lastAtOrBefore(from, b) - 1]!, count };
        assert.deepEqual(
          schedule.latest(a, b),
          want,
          `${label} latest(${new Date(a).toISOString()}, ${new Date(b).toISOString()})`,
        );
      }
    }
  });
}
