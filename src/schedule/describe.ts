// A schedule in a few words, for logs, the `next` command and the SCHEDULE column of `kubectl get pt`.
import type { ScheduleDefinition } from '../api/types.ts';

export function describeSchedule(schedule: ScheduleDefinition, timeZone: string): string {
  switch (schedule.kind) {
    case 'interval': {
      const unit = schedule.every === 1 ? schedule.period.replace(/s$/, '') : schedule.period;
      return `every ${schedule.every} ${unit}`;
    }
    case 'crontab': {
      const { minute, hour, dayOfMonth, monthOfYear, dayOfWeek } = schedule;
      return `cron ${minute} ${hour} ${dayOfMonth} ${monthOfYear} ${dayOfWeek} ${timeZone}`;
    }
    case 'cron':
      return `cron ${schedule.expression} ${timeZone}`;
    case 'clocked':
      return `once at ${new Date(schedule.at).toISOString()}`;
    case 'solar':
      return `${schedule.event} at ${schedule.latitude}, ${schedule.longitude}`;
    case 'set':
      return schedule.schedules.map((s) => describeSchedule(s, timeZone)).join(' and ');
  }
}
