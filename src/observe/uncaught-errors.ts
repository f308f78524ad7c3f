// Every failure has a home (a task's status, a retry, a log line); one that escapes to the process (an
// uncaught exception, an unhandled rejection) is a defect. It is logged and counted, for tests and alerts to
// catch, instead of taking every other task down: an exception thrown by one event handler (a stream's line,
// a timer) leaves that handler's work undone, not the rest, and what must not be lost is in Redis (the run
// state, a claim per slot), which a restart would read back anyway. Defects that keep coming are another
// matter: a loop that throws on every turn does no work and may have left the state it loops over half
// changed, so past a burst the process exits and the kubelet restarts it into a known state.
import type { Logger } from './logger.ts';
import { internalErrorsTotal } from './metrics.ts';
import { exitProcess } from './process-exit.ts';

export interface UncaughtErrorOptions {
  /** More defects than this within `windowMs` end the process. Default 100. */
  burst?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** How the process ends; default exitProcess. */
  exit?: (code: number) => void;
  clock?: () => number;
}

/** The exit status after a burst of defects (EX_SOFTWARE). */
export const DEFECT_BURST_EXIT_CODE = 70;

/** Installs the handlers of `uncaughtException` and `unhandledRejection` on `target` (the process). */
export function handleUncaughtErrors(
  target: NodeJS.EventEmitter,
  logger: Logger,
  options: UncaughtErrorOptions = {},
): void {
  const burst = options.burst ?? 100;
  const windowMs = options.windowMs ?? 60_000;
  const exit = options.exit ?? exitProcess;
  const clock = options.clock ?? Date.now;
  const recent: number[] = [];
  const defect = (error: unknown, what: string): void => {
    internalErrorsTotal.inc();
    const now = clock();
    recent.push(now);
    while (recent.length > 0 && recent[0]! <= now - windowMs) recent.shift();
    if (recent.length > burst) {
      logger.fatal(
        { err: error, defects: recent.length, windowMs },
        `${what} (a defect), ${recent.length} within ${windowMs / 1000} s: exiting to start again from a known state`,
      );
      exit(DEFECT_BURST_EXIT_CODE);
      return;
    }
    logger.error({ err: error }, `${what} (a defect; the operator carries on)`);
  };
  target.on('uncaughtException', (error: unknown) => defect(error, 'uncaught exception'));
  target.on('unhandledRejection', (reason: unknown) => defect(reason, 'unhandled rejection'));
}
