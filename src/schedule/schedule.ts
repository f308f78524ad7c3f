// The clock of one task: which instants (epoch milliseconds, UTC) are its slots.
// An interval's slots lie on the grid through the instant asked about (next(slot) = slot + every): pass the
// cursor, the last slot accounted for, and the grid never drifts. Crontab and clocked slots are absolute.

export interface Schedule {
  /** The first slot strictly after `afterMs`, or null when there is none (a clocked task already past). */
  next(afterMs: number): number | null;
  /**
   * The slots in the window (afterMs, atOrBeforeMs]: the latest one and how many there are,
   * or null when the window holds none. Must not iterate slot by slot over long windows.
   */
  latest(afterMs: number, atOrBeforeMs: number): { slot: number; count: number } | null;
}
