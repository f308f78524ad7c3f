// `celerybeat-operator validate FILE…`: checks PeriodicTask manifests with the operator's own validator.
import { parseArgs } from 'node:util';
import { checkFlags } from './flag-check.ts';
import { loadPeriodicTasks, noPeriodicTaskMessage } from './manifest-files.ts';

const USAGE = `Usage: celerybeat-operator validate [--timezone ZONE] FILE|DIR...

Checks every PeriodicTask in the YAML files (multi-document; a directory means its *.yaml, *.yml and *.json
files) with the same rules as the API server and the operator. Documents of other kinds are skipped.
Prints one line per problem: file:line namespace/name: field: message, the line being that of the field.
A valid task whose schedule means something else to a Kubernetes CronJob gets a "warning:" line.

Flags:
  --timezone ZONE   default time zone of crontab schedules (env TIMEZONE, default UTC)
  -h, --help        show this help

Exit status: 0 all valid (warnings allowed), 1 a problem was found or no PeriodicTask, 2 bad usage.`;

const OPTIONS = { timezone: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export async function runValidateCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`celerybeat-operator validate: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`celerybeat-operator validate: no FILE given\n\n${USAGE}\n`);
    return 2;
  }
  const timeZone = parsed.values.timezone ?? (process.env.TIMEZONE || 'UTC');
  const { tasks, problems, warnings, files } = await loadPeriodicTasks(parsed.positionals, timeZone);
  for (const line of problems) process.stderr.write(`${line}\n`);
  for (const line of warnings) process.stderr.write(`${line} "celerybeat-operator next" shows the runs.\n`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.length} problem(s); ${tasks.length} PeriodicTask(s) valid\n`);
    return 1;
  }
  if (tasks.length === 0) {
    process.stderr.write(`${noPeriodicTaskMessage(parsed.positionals, files)}\n`);
    return 1;
  }
  const warned = warnings.length > 0 ? `, ${warnings.length} warning(s)` : '';
  process.stdout.write(`${tasks.length} PeriodicTask(s) valid${warned}\n`);
  return 0;
}

function parse(argv: string[]) {
  checkFlags(argv, OPTIONS, true);
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}
