// pino JSON logs. A task's logs carry `namespace` and `name` so one task can be followed in a log store.
import { type DestinationStream, type Logger, pino } from 'pino';
import { isLogLevel, LOG_LEVELS } from './log-levels.ts';

export type { Logger };

/** The process logger. `destination` is for tests; production writes to stdout. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  if (!isLogLevel(level)) {
    throw new Error(`invalid log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const options = {
    level,
    base: { component: 'celerybeat-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A child logger for one PeriodicTask. */
export function taskLogger(logger: Logger, namespace: string, name: string): Logger {
  return logger.child({ namespace, name });
}
