// pino logs: JSON lines (one object per line, for log stores), or readable lines for a person at a terminal.
// A task's logs carry `namespace` and `name` so one task can be followed in a log store.
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogFormat } from './log-format.ts';
import { isLogLevel, LOG_LEVELS } from './log-levels.ts';

export type { Logger };

function checkedLevel(level: string): string {
  if (!isLogLevel(level)) {
    throw new Error(`invalid log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

/** A JSON logger. `destination` is for tests; production writes to stdout. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level: checkedLevel(level),
    base: { component: 'celerybeat-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The process logger on stdout in the format asked for. pino-pretty, which draws the readable lines, is loaded
 * only for them: a pod never needs it.
 */
export async function createProcessLogger(
  level: string,
  format: LogFormat,
  stdout: NodeJS.WriteStream = process.stdout,
): Promise<Logger> {
  const text = format === 'text' || (format === 'auto' && stdout.isTTY === true);
  if (!text) return createLogger(level);
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({
    destination: stdout,
    // Written before the call returns: the last lines before an exit are not lost.
    sync: true,
    colorize: stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,component,namespace,name',
    messageFormat: '{if namespace}{namespace}/{end}{if name}{name}: {end}{msg}',
    singleLine: true,
  });
  return pino({ level: checkedLevel(level), base: { component: 'celerybeat-operator' } }, stream);
}

/** A child logger for one PeriodicTask. */
export function taskLogger(logger: Logger, namespace: string, name: string): Logger {
  return logger.child({ namespace, name });
}
