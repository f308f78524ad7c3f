// A crontab read in a time zone. Matching is done on wall-clock field sets (WallCalendar); this file maps wall
// times to instants with the DST rule: a wall time inside a spring-forward gap fires once, shifted forward by the
// gap; a wall time that occurs twice fires once, at its first occurrence. Slots are instants, so a shifted time
// that lands on a real matching time is one slot, not two.
import type { Schedule } from './schedule.ts';
import type { CrontabSets } from './wall-calendar.ts';
import { WallCalendar } from './wall-calendar.ts';
import type { Zone } from './zone.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Slots walked one by one before latest() switches to counting. */
const SHORT_WINDOW_SLOTS = 8;

export class CrontabSchedule implements Schedule {
  private readonly calendar: WallCalendar;
  private readonly zone: Zone;

  constructor(sets: CrontabSets, zone: Zone) {
    this.calendar = new WallCalendar(sets);
    this.zone = zone;
  }

  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) return null;
    const { zone, calendar } = this;
    // Start from the wall time with the lower of today's and yesterday's offset, so that the shifted slots of a
    // spring-forward gap just behind `afterMs` are still seen.
    const offset = Math.min(zone.offsetAt(afterMs), zone.offsetAt(afterMs - DAY_MS));
    let wall = Math.floor((afterMs + offset) / MINUTE_MS) * MINUTE_MS;
    let shifted = Number.POSITIVE_INFINITY;
    let shiftedWall = Number.POSITIVE_INFINITY;
    for (;;) {
      const candidate = calendar.nextWall(wall);
      if (candidate === null) break;
      const at = zone.resolve(candidate);
      if (at.kind === 'gap') {
        // Real times just after the gap can still come earlier than a shifted one: keep looking, but only
        // within a day of the first shifted candidate.
        if (at.shifted > afterMs && at.shifted < shifted) {
          shifted = at.shifted;
          shiftedWall = candidate;
        } else if (candidate - shiftedWall > DAY_MS) break;
      } else {
        // Real wall times map to instants in order, so the first one after afterMs is the earliest of them.
        if (at.first > afterMs) return Math.min(at.first, shifted);
      }
      wall = candidate + MINUTE_MS;
    }
    return Number.isFinite(shifted) ? shifted : null;
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
    const last = this.lastAtOrBefore(atOrBeforeMs) ?? slot;
    return { slot: last, count: this.countSlots(afterMs, last) };
  }

  /** The last slot <= t: the last real matching wall time, or a later shifted one from a spring-forward gap. */
  private lastAtOrBefore(t: number): number | null {
    const { zone, calendar } = this;
    // With yesterday's offset when it was higher, so that the first pass of a fall-back fold is included.
    let wall = t + Math.max(zone.offsetAt(t), zone.offsetAt(t - DAY_MS));
    let best = Number.NEGATIVE_INFINITY;
    for (;;) {
      const candidate = calendar.prevWall(wall);
      if (candidate === null) break;
      const at = zone.resolve(candidate);
      if (at.kind === 'exists' && at.first <= t) {
        best = at.first;
        break;
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

  /** Slots in (after, last], counted per offset segment on the calendar plus DST corrections. */
  private countSlots(after: number, last: number): number {
    const { zone, calendar } = this;
    const transitions = zone.transitionsBetween(after - DAY_MS, last);
    let offset = zone.offsetAt(after);
    let wallLo = after + offset;
    for (const t of transitions) {
      // A fall-back shortly before `after`: the repeated wall times already fired in the first pass.
      if (t.at <= after && t.after < t.before) wallLo = Math.max(wallLo, t.at + t.before - 1);
    }
    let count = 0;
    for (const t of transitions) {
      if (t.at <= after) continue;
      count += calendar.countWalls(wallLo, t.at + offset - 1);
      offset = t.after;
      wallLo = t.at + offset - 1;
      if (t.after < t.before) wallLo = Math.max(wallLo, t.at + t.before - 1);
    }
    count += calendar.countWalls(wallLo, last + offset);
    for (const t of transitions) {
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
