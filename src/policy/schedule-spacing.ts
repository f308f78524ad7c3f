// The shortest time between two runs of a schedule, for a policy's minIntervalSeconds. An interval and a
// cron @every are their delay; a solar event comes at most once a day. A crontab or cron is read from its minute and hour values in wall-clock time:
// the smallest step between two matching minutes of one hour, or from the last matching minute of an hour to
// the first of the next matching hour (the next day's first hour after the day's last, as if every day
// matched). Day fields only make runs further apart, so this never overstates the spacing; a daylight-saving
// change can bring two wall times closer than their wall-clock distance.
import type { ScheduleDefinition, SingleScheduleDefinition } from '../api/types.ts';
import { crontabSets } from '../schedule/compile.ts';
import { PERIOD_MICROSECONDS } from '../schedule/interval-schedule.ts';

const MINUTE_US = 60_000_000;
const SOLAR_SPACING_US = 12 * 60 * MINUTE_US;

/** Microseconds, exact; null for a clocked schedule, which runs once. */
export function shortestSpacingUs(schedule: ScheduleDefinition): number | null {
  switch (schedule.kind) {
    case 'interval':
      return schedule.every * PERIOD_MICROSECONDS[schedule.period];
    case 'clocked':
      return null;
    case 'cron':
      if ('intervalSeconds' in schedule.documented) return schedule.documented.intervalSeconds * 1_000_000;
      return crontabSpacingUs(schedule.documented.crontab.minute, schedule.documented.crontab.hour);
    case 'crontab':
      return crontabSpacingUs(schedule.minute, schedule.hour);
    case 'solar':
      // One event a day at most; near polar day or night its time moves fast from day to day, so a day is not
      // a lower bound, half of one is.
      return SOLAR_SPACING_US;
    case 'set':
      return setSpacingUs(schedule.schedules);
  }
}

/**
 * Several schedules: none closer than each one's own spacing, nor than two of them can come to each other. Two
 * crontabs or (non-@every) crons fall on different wall minutes unless they share one (then one slot); any
 * other pair may come as close as a millisecond.
 */
function setSpacingUs(schedules: readonly SingleScheduleDefinition[]): number | null {
  let shortest: number | null = null;
  for (const s of schedules) {
    const own = shortestSpacingUs(s);
    if (own !== null) shortest = shortest === null ? own : Math.min(shortest, own);
  }
  if (schedules.length < 2) return shortest;
  const minutes = schedules.every(
    (s) => s.kind === 'crontab' || (s.kind === 'cron' && 'crontab' in s.documented),
  );
  const between = minutes ? MINUTE_US : 1000;
  return shortest === null ? between : Math.min(shortest, between);
}

function crontabSpacingUs(minuteField: string, hourField: string): number {
  const sets = crontabSets({
    minute: minuteField,
    hour: hourField,
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  const minutes = [...sets.minute].sort((a, b) => a - b);
  const hours = [...sets.hour].sort((a, b) => a - b);
  const firstMinute = minutes[0] ?? 0;
  const lastMinute = minutes.at(-1) ?? 0;
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < minutes.length; i++) shortest = Math.min(shortest, minutes[i]! - minutes[i - 1]!);
  for (let i = 0; i < hours.length; i++) {
    const next = i + 1 < hours.length ? hours[i + 1]! : hours[0]! + 24;
    shortest = Math.min(shortest, (next - hours[i]!) * 60 - lastMinute + firstMinute);
  }
  return shortest * MINUTE_US;
}
