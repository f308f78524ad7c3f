// A crontab or cron string read in a time zone. Matching is done on wall-clock minutes (a MinuteCalendar); this
// file maps wall times to instants with the DST rule, the same for both:
// - a wall time inside a spring-forward gap fires once, shifted forward by the gap; a shifted time that lands on
//   a real matching time is one slot, not two;
// - a wall time repeated by a fall-back (the fold) fires at both occurrences when the hour field is every hour
//   (`*`), so the cadence holds in real time; otherwise once: at its first occurrence, or at its second when the
//   origin (the cursor) lies in the fold after a matching time's first occurrence, because then that time has not
//   run for this task. A cursor remembers nothing but an instant, so in that case every matching time of that
//   fold runs in the second pass: it is the only choice under which each runs exactly once, whichever later
//   slot becomes the cursor.
import type { Schedule } from './schedule.ts';
import type { MinuteCalendar } from './wall-calendar.ts';
import type { Transition, WallInstant, Zone } from './zone.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Slots walked one by one before latest() switches to counting. */
const SHORT_WINDOW_SLOTS = 8;

type RealWall = Extract<WallInstant, { kind: 'exists' }>;

/** How long a fall-back repeats wall times (0 for other transitions). */
function foldLength(t: Transition): number {
  return Math.max(0, t.before - t.after);
}

export class CrontabSchedule implements Schedule {
  private readonly calendar: MinuteCalendar;
  private readonly zone: Zone;
  /** The hour field matches every hour: repeated wall times fire at both occurrences. */
  private readonly everyHour: boolean;

  /** `everyHour`: the hour field matches every hour (repeated wall times then fire at both occurrences). */
  constructor(calendar: MinuteCalendar, zone: Zone, everyHour: boolean) {
    this.calendar = calendar;
    this.zone = zone;
    this.everyHour = everyHour;
  }

  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) return null;
    const { zone, calendar } = this;
    const deferred = this.deferredFold(afterMs);
    // Start from the wall time with the lowest offset of yesterday, today and tomorrow, so that the shifted slots
    // of a spring-forward gap just behind `afterMs` and the second pass of a fold just ahead are still seen.
    const offset = Math.min(
      zone.offsetAt(afterMs - DAY_MS),
      zone.offsetAt(afterMs),
      zone.offsetAt(afterMs + DAY_MS),
    );
    let wall = Math.floor((afterMs + offset) / MINUTE_MS) * MINUTE_MS;
    let best = Number.POSITIVE_INFINITY;
    let shiftedWall = Number.POSITIVE_INFINITY;
    for (;;) {
      const candidate = calendar.nextWall(wall);
      if (candidate === null) break;
      const at = zone.resolve(candidate);
      if (at.kind === 'gap') {
        // Real times just after the gap can still come earlier than a shifted one: keep looking, but only
        // within a day of the first shifted candidate.
        if (at.shifted > afterMs && at.shifted < best) {
          best = at.shifted;
          shiftedWall = Math.min(shiftedWall, candidate);
        } else if (candidate - shiftedWall > DAY_MS) break;
      } else {
        for (const t of this.firesOf(at, deferred)) if (t > afterMs && t < best) best = t;
        // Every later wall time fires after this one's first occurrence (or, in a deferred fold, after its
        // second), so once that is past afterMs the earliest slot is known.
        if (at.first > afterMs) break;
      }
      wall = candidate + MINUTE_MS;
    }
    return Number.isFinite(best) ? best : null;
  }

  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null {
    if (!(atOrBeforeMs > afterMs)) return null;
    let slot = this.next(afterMs);
    if (slot === null || slot > atOrBeforeMs) return null;
    for (let count = 1; count <= SHORT_WINDOW_SLOTS; count++) {
      const following = this.next(slot);
      if (following === null || following > atOrBeforeMs) return { slot, count };
      slot = following;
    }
    const deferred = this.deferredFold(afterMs);
    const last = this.lastAtOrBefore(atOrBeforeMs, deferred) ?? slot;
    return { slot: last, count: this.countSlots(afterMs, last, deferred) };
  }

  /** The fall-back whose repeated real time [at - length, at + length) holds `ms`, if any. */
  private foldAround(ms: number): Transition | null {
    for (const t of this.zone.transitionsBetween(ms - DAY_MS, ms + DAY_MS)) {
      const length = foldLength(t);
      if (length > 0 && ms >= t.at - length && ms < t.at + length) return t;
    }
    return null;
  }

  /**
   * For a fixed-time crontab, the fold whose matching wall times fire at their second occurrence for slots
   * counted from `origin`: the origin lies in the second pass, or in the first pass after a matching time's first
   * occurrence without being a slot itself (a slot there means the task ran through the first pass).
   */
  private deferredFold(origin: number): Transition | null {
    if (this.everyHour) return null;
    const t = this.foldAround(origin);
    if (t === null) return null;
    if (origin >= t.at) return t;
    const wall = origin + t.before;
    if (Math.floor(wall / MINUTE_MS) * MINUTE_MS === wall && this.calendar.matches(wall)) return null;
    const passed = this.calendar.prevWall(wall);
    return passed !== null && passed >= t.at + t.after ? t : null;
  }

  /** The instants a matching real wall time fires at. */
  private firesOf(at: RealWall, deferred: Transition | null): number[] {
    if (at.second === undefined) return [at.first];
    if (this.everyHour) return [at.first, at.second];
    if (deferred !== null && at.second >= deferred.at && at.second < deferred.at + foldLength(deferred)) {
      return [at.second];
    }
    return [at.first];
  }

  /** The latest instant a wall time fires at; no lower wall time fires later (firesOf is in order). */
  private lastFiring(at: RealWall, deferred: Transition | null): number {
    const fires = this.firesOf(at, deferred);
    return fires[fires.length - 1]!;
  }

  /** The last slot <= t: the last firing of a real matching wall time, or a later shifted one from a gap. */
  private lastAtOrBefore(t: number, deferred: Transition | null): number | null {
    const { zone, calendar } = this;
    // With yesterday's offset when it was higher, so that the first pass of a fall-back fold is included.
    let wall = t + Math.max(zone.offsetAt(t), zone.offsetAt(t - DAY_MS));
    let best = Number.NEGATIVE_INFINITY;
    for (;;) {
      const candidate = calendar.prevWall(wall);
      if (candidate === null) break;
      const at = zone.resolve(candidate);
      if (at.kind === 'exists') {
        for (const f of this.firesOf(at, deferred)) if (f <= t && f > best) best = f;
        // Lower wall times fire before this one's last firing: once that is found, nothing lower beats it.
        if (best >= this.lastFiring(at, deferred)) break;
      }
      wall = candidate - MINUTE_MS;
    }
    const from = (Number.isFinite(best) ? best : t - 366 * DAY_MS) - DAY_MS;
    for (const tr of zone.transitionsBetween(from, t)) {
      if (tr.after <= tr.before) continue;
      // The last matching wall time inside the gap whose shifted instant (wall - old offset) is <= t.
      const c = calendar.prevWall(Math.min(tr.at + tr.after - MINUTE_MS, t + tr.before));
      if (c !== null && c >= tr.at + tr.before) best = Math.max(best, c - tr.before);
    }
    return Number.isFinite(best) ? best : null;
  }

  /**
   * Slots in (after, last]: every real instant whose wall time matches, counted per offset segment on the
   * calendar, then the DST corrections (fold passes that do not fire, shifted gap times).
   */
  private countSlots(after: number, last: number, deferred: Transition | null): number {
    const { zone, calendar } = this;
    const transitions = zone.transitionsBetween(after - DAY_MS, last);
    let offset = zone.offsetAt(after);
    let wallLo = after + offset;
    let count = 0;
    for (const t of transitions) {
      if (t.at <= after) continue;
      count += calendar.countWalls(wallLo, t.at + offset - 1);
      offset = t.after;
      wallLo = t.at + offset - 1;
    }
    count += calendar.countWalls(wallLo, last + offset);
    for (const t of transitions) {
      const length = foldLength(t);
      if (length > 0 && !this.everyHour && t.at + length > after) {
        // A fixed-time crontab fires once per repeated wall time: drop the pass that does not fire.
        if (deferred !== null && deferred.at === t.at) {
          const hi = Math.min(last, t.at - 1);
          if (hi > after) count -= calendar.countWalls(after + t.before, hi + t.before);
        } else {
          const lo = Math.max(after, t.at - 1);
          const hi = Math.min(last, t.at + length - 1);
          if (hi > lo) count -= calendar.countWalls(lo + t.after, hi + t.after);
        }
      }
      if (t.after <= t.before) continue;
      const gap = t.after - t.before;
      // Wall times in the gap fire shifted; count those whose shifted instant is not a matching real time too.
      for (
        let c = calendar.nextWall(t.at + t.before);
        c !== null && c < t.at + t.after;
        c = calendar.nextWall(c + MINUTE_MS)
      ) {
        const at = c - t.before;
        if (at > after && at <= last && !calendar.matches(c + gap)) count++;
      }
    }
    return count;
  }
}
