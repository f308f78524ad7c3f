// Date.UTC reads the years 0-99 as 1900-1999, so a time in the first century of the calendar (a cursor carried
// over from year 1, a clocked time in year 50) would land 1900 years later. The Gregorian calendar repeats
// every 400 years (146,097 days, a whole number of weeks), so those years are computed 400 years on and
// moved back.

const CYCLE_YEARS = 400;
const CYCLE_MS = 146_097 * 86_400_000;

/** Epoch ms of UTC calendar fields (month 0-11, out-of-range fields carry over as in Date.UTC), any year. */
export function utcTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  if (year >= 0 && year < 100)
    return Date.UTC(year + CYCLE_YEARS, month, day, hour, minute, second) - CYCLE_MS;
  return Date.UTC(year, month, day, hour, minute, second);
}
