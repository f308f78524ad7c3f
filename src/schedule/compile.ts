// Turns a validated schedule definition into its Schedule (the slots as instants).
import type { ScheduleDefinition } from '../api/types.ts';
import { ClockedSchedule } from './clocked-schedule.ts';
import type { CrontabFieldName } from './crontab-parse.ts';
import { parseCrontabField } from './crontab-parse.ts';
import { CrontabSchedule } from './crontab-schedule.ts';
import { IntervalSchedule } from './interval-schedule.ts';
import type { Schedule } from './schedule.ts';
import type { CrontabSets } from './wall-calendar.ts';
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

/**
 * The Schedule of a definition. Crontab fields are read in `timeZone` (an IANA name). Interval slots lie on the
 * grid through the instant passed to next()/latest(), so callers pass the cursor (see catch-up.ts).
 */
export function compileSchedule(schedule: ScheduleDefinition, timeZone: string): Schedule {
  switch (schedule.kind) {
    case 'interval':
      return new IntervalSchedule(schedule.every, schedule.period);
    case 'clocked':
      return new ClockedSchedule(schedule.at);
    case 'crontab':
      return new CrontabSchedule(crontabSets(schedule), zoneFor(timeZone));
  }
}
