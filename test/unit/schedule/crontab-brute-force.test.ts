// Random crontabs against a minute-by-minute scan over two years in five zones. The scan is the definition:
// every UTC minute whose wall clock (from Intl, independently of the engine) matches is a slot at its first
// occurrence; a wall time skipped by a spring-forward gap is a slot shifted forward by the gap.
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
    previousWall = wall;
    if (i > 0 && wall > maxWall + MINUTE) {
      gaps.push({ index: i, firstSkippedWall: maxWall + MINUTE, minutes: (wall - maxWall) / MINUTE - 1 });
    }
    if (wall > maxWall) {
      firstOccurrence[i] = 1;
      maxWall = wall;
    }
  }
  return { fields, firstOccurrence, gaps, edges };
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

function referenceSlots(scan: ZoneScan, matches: (packed: number) => boolean): number[] {
  const slots = new Set<number>();
  for (let i = 0; i < scan.fields.length; i++) {
    if (scan.firstOccurrence[i] && matches(scan.fields[i]!)) slots.add(START + i * MINUTE);
  }
  for (const gap of scan.gaps) {
    for (let k = 0; k < gap.minutes; k++) {
      if (matches(pack(gap.firstSkippedWall + k * MINUTE))) slots.add(START + (gap.index + k) * MINUTE);
    }
  }
  return [...slots].sort((a, b) => a - b);
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
      if (referenceSlots(scan, matcher(c)).length > 0) crontabs.push(c);
    }
    for (const def of crontabs) {
      const label = `${zone} ${def.minute} ${def.hour} ${def.dayOfMonth} ${def.monthOfYear} ${def.dayOfWeek}`;
      const expected = referenceSlots(scan, matcher(def));
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
      for (const [a, b] of windows) {
        const count = lastAtOrBefore(expected, b) - lastAtOrBefore(expected, a);
        const want = count === 0 ? null : { slot: expected[lastAtOrBefore(expected, b) - 1]!, count };
        assert.deepEqual(
          schedule.latest(a, b),
          want,
          `${label} latest(${new Date(a).toISOString()}, ${new Date(b).toISOString()})`,
        );
      }
    }
  });
}
