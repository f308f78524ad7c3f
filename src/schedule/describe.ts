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
    case 'clocked':
      return `once at ${new Date(schedule.at).toISOString()}`;
  }
}
