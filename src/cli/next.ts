// `celerybeat-operator next FILE… [--count N] [--from ISO]`: the next run times of each PeriodicTask.
import { parseArgs } from 'node:util';
import { taskKey } from '../api/types.ts';
import { runTimeOf } from '../schedule/jitter.ts';
import { planFromFirstSight } from '../schedule/run-plan.ts';
import { checkFlags } from './flag-check.ts';
import { loadPeriodicTasks, noPeriodicTaskMessage } from './manifest-files.ts';

const USAGE = `Usage: celerybeat-operator next [--count N] [--from ISO] [--timezone ZONE] FILE|DIR...

Prints the next N run times of each PeriodicTask in the files, one per line, as
"<namespace>/<name> <ISO-8601 UTC>", as the operator would run them for a task first seen at --from.

Flags:
  --count N         run times per task (default 5, at most 10000)
  --from ISO        start instant, such as 2026-12-01T00:00:00Z (default: now)
  --timezone ZONE   default time zone of crontab schedules (env TIMEZONE, default UTC)
  -h, --help        show this help

A task whose schedule means something else to a Kubernetes CronJob gets a "warning:" line on stderr.

Exit status: 0 success, 1 an invalid manifest or no PeriodicTask, 2 bad usage.`;

const OPTIONS = {
  count: { type: 'string', short: 'n' },
  from: { type: 'string' },
  timezone: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function fail(message: string): number {
  process.stderr.write(`celerybeat-operator next: ${message}\n`);
  return 2;
}

export async function runNextCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    return fail((err as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) return fail('no FILE given (see --help)');
  const count = Number(values.count ?? '5');
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    return fail(`--count must be an integer from 1 to 10000, got "${values.count}"`);
  }
  const from = values.from === undefined ? Date.now() : Date.parse(values.from);
  if (Number.isNaN(from))
    return fail(`--from must be an ISO-8601 time such as 2026-12-01T00:00:00Z, got "${values.from}"`);

  const { tasks, problems, warnings, files } = await loadPeriodicTasks(
    positionals,
    values.timezone ?? (process.env.TIMEZONE || 'UTC'),
  );
  for (const line of problems) process.stderr.write(`${line}\n`);
  for (const line of warnings) process.stderr.write(`${line}\n`);
  if (tasks.length === 0 && problems.length === 0) {
    process.stderr.write(`${noPeriodicTaskMessage(positionals, files)}\n`);
    return 1;
  }
  for (const { definition: def } of tasks) {
    const key = taskKey(def.namespace, def.name);
    const plan = planFromFirstSight(def, from);
    if (plan.limit === 0) {
      const why = !def.enabled ? 'disabled' : def.pause ? 'paused until resumed' : 'completed (spec.maxRuns)';
      process.stderr.write(`${key}: ${why}, no runs\n`);
      continue;
    }
    const lines: string[] = [];
    let cursor = plan.cursor;
    for (let i = 0; i < Math.min(plan.limit, count); i++) {
      const slot = plan.schedule.next(cursor);
      if (slot === null) break;
      lines.push(`${key} ${new Date(runTimeOf(def, key, slot)).toISOString()}`);
      cursor = slot;
    }
    if (lines.length === 0) process.stderr.write(`${key}: no more runs\n`);
    else process.stdout.write(`${lines.join('\n')}\n`);
  }
  return problems.length > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  checkFlags(argv, OPTIONS, true);
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}
