// UTC offsets of an IANA time zone, read from Intl and cached as a table of transitions, and the mapping of a
// wall-clock time back to instants: a skipped time (spring-forward gap) has none, a repeated time (fall-back
// fold) has two. Which of them fire is crontab-schedule.ts's rule.
import { utcTime } from './utc-time.ts';

const DAY_MS = 86_400_000;
/**
 * Offsets are read in blocks of about 24 days, sampled 4 days apart (no zone changes its offset twice within
 * 4 days), and each change is then found to the second by bisection.
 */
const BLOCK_MS = 2 ** 31;
const SAMPLE_MS = 4 * 86_400_000;

export interface Transition {
  /** The first instant with the new offset. */
  at: number;
  before: number;
  after: number;
}

interface Block {
  start: number;
  transitions: Transition[];
}

/**
 * What a wall-clock time (epoch ms of the wall fields read as UTC) means in the zone: one instant, two (`second`
 * is set for a wall time repeated by a fall-back), or none (a spring-forward gap; `shifted` reads it with the
 * old offset).
 */
export type WallInstant =
  | { kind: 'exists'; first: number; second?: number }
  | { kind: 'gap'; shifted: number };

export class Zone {
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly blocks = new Map<number, Block>();

  constructor(name: string) {
    this.name = name;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Offset (ms to add to UTC to get the wall clock) at an instant. */
  offsetAt(ms: number): number {
    const block = this.block(Math.floor(ms / BLOCK_MS));
    let offset = block.start;
    for (const t of block.transitions) if (ms >= t.at) offset = t.after;
    return offset;
  }

  /** Offset changes with `from < at <= to`. */
  transitionsBetween(from: number, to: number): Transition[] {
    const out: Transition[] = [];
    for (let i = Math.floor(from / BLOCK_MS); i <= Math.floor(to / BLOCK_MS); i++) {
      for (const t of this.block(i).transitions) if (t.at > from && t.at <= to) out.push(t);
    }
    return out;
  }

  wallOf(ms: number): number {
    return ms + this.offsetAt(ms);
  }

  /** The instants showing a wall time, or (in a spring-forward gap) the wall time shifted by the gap. */
  resolve(wall: number): WallInstant {
    const before = this.offsetAt(wall - DAY_MS);
    const after = this.offsetAt(wall + DAY_MS);
    const u1 = wall - before;
    const u2 = wall - after;
    const ok1 = this.offsetAt(u1) === before;
    const ok2 = before !== after && this.offsetAt(u2) === after;
    if (ok1 && ok2) return { kind: 'exists', first: Math.min(u1, u2), second: Math.max(u1, u2) };
    if (ok1) return { kind: 'exists', first: u1 };
    if (ok2) return { kind: 'exists', first: u2 };
    // In the gap the offset rose from `before`: reading the wall time with the old offset gives the instant
    // that shows wall + gap on the new clock (02:30 → 03:30 in Europe/Berlin).
    return { kind: 'gap', shifted: u1 };
  }

  private readOffset(ms: number): number {
    const second = Math.floor(ms / 1000) * 1000;
    const fields: Record<string, string> = {};
    for (const p of this.format.formatToParts(second)) fields[p.type] = p.value;
    let year = Number(fields.year);
    if (fields.era === 'BC' || fields.era === 'B') year = 1 - year;
    const wall = utcTime(
      year,
      Number(fields.month) - 1,
      Number(fields.day),
      Number(fields.hour),
      Number(fields.minute),
      Number(fields.second),
    );
    return wall - second;
  }

  private block(index: number): Block {
    const cached = this.blocks.get(index);
    if (cached) return cached;
    const start = index * BLOCK_MS;
    const end = start + BLOCK_MS;
    const block: Block = { start: this.readOffset(start), transitions: [] };
    const justBefore = this.readOffset(start - 1000);
    if (justBefore !== block.start)
      block.transitions.push({ at: start, before: justBefore, after: block.start });
    let prevAt = start;
    let prevOffset = block.start;
    for (let at = Math.min(start + SAMPLE_MS, end); ; at = Math.min(at + SAMPLE_MS, end)) {
      const offset = this.readOffset(at);
      if (offset !== prevOffset) {
        const change = this.findChange(prevAt, at, prevOffset);
        if (change < end)
          block.transitions.push({ at: change, before: prevOffset, after: this.readOffset(change) });
        prevOffset = offset;
      }
      prevAt = at;
      if (at >= end) break;
    }
    this.blocks.set(index, block);
    return block;
  }

  /** The first whole second in (lo, hi] whose offset differs from `offset` (offsets change on whole seconds). */
  private findChange(lo: number, hi: number, offset: number): number {
    let a = Math.floor(lo / 1000);
    let b = Math.ceil(hi / 1000);
    while (b - a > 1) {
      const mid = Math.floor((a + b) / 2);
      if (this.readOffset(mid * 1000) === offset) a = mid;
      else b = mid;
    }
    return b * 1000;
  }
}

const zones = new Map<string, Zone>();

/** The shared, cached zone for an IANA name; throws a RangeError for an unknown name. */
export function zoneFor(name: string): Zone {
  let zone = zones.get(name);
  if (!zone) {
    zone = new Zone(name);
    zones.set(name, zone);
  }
  return zone;
}

const knownZones = new Map<string, boolean>();

/** Whether Intl knows the zone name (an IANA name such as Europe/Berlin, or UTC). Cached: Intl is slow. */
export function isKnownTimeZone(name: string): boolean {
  let known = knownZones.get(name);
  if (known === undefined) {
    known = !/^[+-]/.test(name) && canFormatIn(name);
    // Unknown names come from user input: bound the cache rather than grow it without limit.
    if (knownZones.size < 10_000) knownZones.set(name, known);
  }
  return known;
}

function canFormatIn(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
