// `celerybeat-operator validate FILE…`: checks PeriodicTask manifests with the operator's own validator.
import { parseArgs } from 'node:util';
import { DEFAULT_KEY_PREFIX } from '../api/types.ts';
import { checkFlags } from './flag-check.ts';
import { loadPeriodicTasks, noPeriodicTaskMessage } from './manifest-files.ts';

const USAGE = `Usage: celerybeat-operator validate [--timezone ZONE] [--key-prefix PREFIX] FILE|DIR...

Checks every PeriodicTask in the YAML files (multi-document; a directory means its *.yaml, *.yml and *.json
files) with the same rules as the API server and the operator. Documents of other kinds are skipped.
Prints one line per problem: file:line namespace/name: field: message, the line being that of the field.
A valid task whose schedule means something else to a Kubernetes CronJob gets a "warning:" line.

Flags:
  --timezone ZONE      default time zone of crontab schedules (env TIMEZONE, default UTC)
  --key-prefix PREFIX  the operator's Redis key prefix, which no queue, exchange or routing key may
                       start with (env KEY_PREFIX, default ${DEFAULT_KEY_PREFIX})
  -h, --help           show this help

Exit status: 0 all valid (warnings allowed), 1 a problem was found or no PeriodicTask, 2 bad usage.`;

const OPTIONS = {
  timezone: { type: 'string' },
  'key-prefix': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

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
  const keyPrefix = parsed.values['key-prefix'] ?? (process.env.KEY_PREFIX || DEFAULT_KEY_PREFIX);
  if (keyPrefix === '') {
    process.stderr.write('celerybeat-operator validate: --key-prefix must not be empty\n');
    return 2;
  }
  const { tasks, problems, warnings, files } = await loadPeriodicTasks(
    parsed.positionals,
    timeZone,
    keyPrefix,
  );
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
