// Turns a validated schedule definition into its Schedule (the slots as instants).
import type {
  ExclusionDefinition,
  ScheduleDefinition,
  SingleScheduleDefinition,
  SolarEvent,
  TaskDefinition,
} from '../api/types.ts';
import { ClockedSchedule } from './clocked-schedule.ts';
import { cronJobSchedule } from './cron-job-parse.ts';
import { CronParserCalendar } from './cron-parser-calendar.ts';
import type { CrontabFieldName } from './crontab-parse.ts';
import { parseCrontabField } from './crontab-parse.ts';
import { CrontabSchedule } from './crontab-schedule.ts';
import { EndingSchedule } from './ending-schedule.ts';
import { EverySchedule } from './every-schedule.ts';
import { ExcludingSchedule } from './excluding-schedule.ts';
import { Exclusions } from './exclusions.ts';
import { GridSchedule } from './grid-schedule.ts';
import { IntervalSchedule, PERIOD_MICROSECONDS } from './interval-schedule.ts';
import type { Schedule } from './schedule.ts';
import type { SetMember } from './schedule-set.ts';
import { ScheduleSet } from './schedule-set.ts';
import { SolarSchedule } from './solar-schedule.ts';
import type { CrontabSets } from './wall-calendar.ts';
import { WallCalendar } from './wall-calendar.ts';
import { zoneFor } from './zone.ts';

/** The value sets of crontab fields; throws with the field name when one does not parse. */
export function crontabSets(fields: Record<CrontabFieldName, string>): CrontabSets {
  const values = (field: CrontabFieldName): number[] => {
    const parsed = parseCrontabField(fields[field], field);
    if (!parsed.ok) throw new RangeError(`crontab ${field} "${fields[field]}": ${parsed.message}`);
    return parsed.values;
  };
  return {
    minute: values('minute'),
    hour: values('hour'),
    dayOfWeek: values('dayOfWeek'),
    dayOfMonth: values('dayOfMonth'),
    monthOfYear: values('monthOfYear'),
  };
}

const cronCalendars = new Map<string, CronParserCalendar>();
const cronSchedules = new Map<string, Schedule>();
const solarSchedules = new Map<string, SolarSchedule>();

/** The calendar of a cron string, shared by every zone and task that uses the string (its answers are cached). */
function cronCalendar(expression: string, sets: CrontabSets, eitherDay: boolean): CronParserCalendar {
  let calendar = cronCalendars.get(expression);
  if (!calendar) {
    calendar = new CronParserCalendar(sets, eitherDay);
    // Strings come from user input: bound the cache rather than grow it without limit.
    if (cronCalendars.size >= 2000) cronCalendars.clear();
    cronCalendars.set(expression, calendar);
  }
  return calendar;
}

/** The Schedule of a `cron` string in a zone: one per distinct (string, zone), as the schedules hold no state. */
function cronSchedule(expression: string, timeZone: string): Schedule {
  const key = `${timeZone} ${expression}`;
  let schedule = cronSchedules.get(key);
  if (schedule) return schedule;
  const parsed = cronJobSchedule(expression);
  if (!parsed.ok) throw new RangeError(`cron "${expression}": ${parsed.message}`);
  const s = parsed.schedule;
  schedule =
    s.kind === 'every'
      ? new EverySchedule(s.seconds)
      : new CrontabSchedule(
          cronCalendar(expression, s.sets, s.eitherDay),
          zoneFor(timeZone),
          s.sets.hour.length === 24,
        );
  if (cronSchedules.size >= 10_000) cronSchedules.clear();
  cronSchedules.set(key, schedule);
  return schedule;
}

/** The Schedule of a solar event at a place: one per distinct (event, place), sharing the events it found. */
function solarSchedule(event: SolarEvent, latitude: number, longitude: number): Schedule {
  const key = `${event} ${latitude} ${longitude}`;
  let schedule = solarSchedules.get(key);
  if (schedule) return schedule;
  schedule = new SolarSchedule(event, latitude, longitude);
  if (solarSchedules.size >= 10_000) solarSchedules.clear();
  solarSchedules.set(key, schedule);
  return schedule;
}

/**
 * The Schedule of a definition. Crontab fields and cron strings are read in `timeZone` (an IANA name). A lone
 * interval's slots lie on the grid through the instant passed to next()/latest(), so callers pass the cursor
 * (see catch-up.ts); in a set, an interval's grid runs through `startTime` (else the Unix epoch).
 */
export function compileSchedule(
  schedule: ScheduleDefinition,
  timeZone: string,
  startTime?: number,
): Schedule {
  switch (schedule.kind) {
    case 'interval':
      return new IntervalSchedule(schedule.every, schedule.period);
    case 'clocked':
      return new ClockedSchedule(schedule.at);
    case 'crontab': {
      const sets = crontabSets(schedule);
      return new CrontabSchedule(new WallCalendar(sets), zoneFor(timeZone), sets.hour.length === 24);
    }
    case 'cron':
      return cronSchedule(schedule.expression, timeZone);
    case 'solar':
      return solarSchedule(schedule.event, schedule.latitude, schedule.longitude);
    case 'set':
      return new ScheduleSet(schedule.schedules.map((s) => setMember(s, timeZone, startTime ?? 0)));
  }
}

/** One schedule of a set: an interval or a cron @every as a grid through `anchor`, the others as they are. */
function setMember(schedule: SingleScheduleDefinition, timeZone: string, anchor: number): SetMember {
  if (schedule.kind === 'interval') {
    const everyUs = schedule.every * PERIOD_MICROSECONDS[schedule.period];
    return { schedule: new GridSchedule(everyUs, anchor), grid: true };
  }
  if (schedule.kind === 'cron' && 'intervalSeconds' in schedule.documented) {
    // On whole seconds, as a lone @every.
    const everyUs = schedule.documented.intervalSeconds * 1_000_000;
    return { schedule: new GridSchedule(everyUs, Math.floor(anchor / 1000) * 1000), grid: true };
  }
  return { schedule: compileSchedule(schedule, timeZone), grid: false };
}

function exclusionsOf(exclude: readonly ExclusionDefinition[], timeZone: string): Exclusions {
  const dates: string[] = [];
  const calendars: CrontabSets[] = [];
  for (const e of exclude) {
    if (e.kind === 'date') dates.push(e.date);
    else calendars.push(crontabSets(e));
  }
  return new Exclusions(dates, calendars, zoneFor(timeZone));
}

/** The slots a task may run at: its schedule (or schedules) without its exclusions, up to its endTime. */
export function compileTaskSchedule(def: TaskDefinition): Schedule {
  let schedule = compileSchedule(def.schedule, def.timeZone, def.startTime);
  if (def.exclude !== undefined && def.exclude.length > 0)
    schedule = new ExcludingSchedule(schedule, exclusionsOf(def.exclude, def.timeZone));
  return def.endTime === undefined ? schedule : new EndingSchedule(schedule, def.endTime);
}
