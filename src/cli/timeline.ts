// `celerybeat-operator timeline FILE…`: how many runs of the PeriodicTasks in the files fall in each minute or
// hour of the coming window, drawn for a terminal, with the engine the operator runs (jitter and pauses included).
import { parseArgs } from 'node:util';
import { planFromFirstSight } from '../schedule/run-plan.ts';
import { checkFlags, UsageError } from './flag-check.ts';
import { loadPeriodicTasks, noPeriodicTaskMessage } from './manifest-files.ts';
import { groupingOf, renderTimeline, timelineOf, timelineWindow } from './timeline-chart.ts';

const USAGE = `Usage: celerybeat-operator timeline [--hours N] [--bucket minute|hour] [--by namespace|task] [--from ISO] [--timezone ZONE] FILE|DIR...

Draws how many runs of the PeriodicTasks in the files fall in each minute or hour of the next N hours, as the
operator would run them for tasks first seen at --from: one line per bucket with a bar, the namespaces (or
tasks) that make it up, and the peaks marked. Times are UTC.

Flags:
  --hours N         the window (default 24, at most 744)
  --bucket UNIT     minute or hour (default: minute up to 2 hours, else hour)
  --by GROUP        namespace or task (default: namespace when the tasks are in several, else task)
  --from ISO        start instant, such as 2026-12-01T00:00:00Z (default: now)
  --timezone ZONE   default time zone of crontab schedules (env TIMEZONE, default UTC)
  -h, --help        show this help

Exit status: 0 success, 1 an invalid manifest or no PeriodicTask, 2 bad usage.`;

const OPTIONS = {
  hours: { type: 'string' },
  bucket: { type: 'string' },
  by: { type: 'string' },
  from: { type: 'string' },
  timezone: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function fail(message: string): number {
  process.stderr.write(`celerybeat-operator timeline: ${message}\n`);
  return 2;
}

export async function runTimelineCommand(argv: string[]): Promise<number> {
  let values: { [K in keyof typeof OPTIONS]?: string | boolean };
  let positionals: string[];
  let window: ReturnType<typeof timelineWindow>;
  let by: 'namespace' | 'task' | undefined;
  try {
    checkFlags(argv, OPTIONS, true);
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    }));
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('no FILE given (see --help)');
    const from = typeof values.from === 'string' ? Date.parse(values.from) : Date.now();
    if (Number.isNaN(from))
      throw new UsageError(
        `--from must be an ISO-8601 time such as 2026-12-01T00:00:00Z, got "${values.from}"`,
      );
    window = timelineWindow(values.hours as string | undefined, values.bucket as string | undefined, from);
    by = groupingOf(values.by as string | undefined);
  } catch (err) {
    return fail((err as Error).message.split('\n')[0]!);
  }
  const { tasks, problems, warnings, files } = await loadPeriodicTasks(
    positionals,
    (values.timezone as string | undefined) ?? (process.env.TIMEZONE || 'UTC'),
  );
  for (const line of [...problems, ...warnings]) process.stderr.write(`${line}\n`);
  if (tasks.length === 0 && problems.length === 0) {
    process.stderr.write(`${noPeriodicTaskMessage(positionals, files)}\n`);
    return 1;
  }
  // Tasks first seen at the window's start: a task's first slot is then what it would be.
  const plans = tasks.map(({ definition }) => planFromFirstSight(definition, window.from));
  process.stdout.write(`${renderTimeline(timelineOf(plans, window, by)).join('\n')}\n`);
  return problems.length > 0 ? 1 : 0;
}
