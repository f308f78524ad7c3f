// The sub-commands of `celerybeat-operator`: picks one and hands it the rest of argv. Each command's module
// is imported only when that command runs, so `validate` and `next` never load the Kubernetes client, Redis,
// the AMQP client, the metrics registry or the logger that `run` needs.
type Command = (argv: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

const COMMANDS: Record<string, CommandEntry> = {
  run: {
    summary: 'run the operator (the default command)',
    load: async () => (await import('./run-command.ts')).runRunCommand,
  },
  validate: {
    summary: 'check PeriodicTask manifests in files',
    load: async () => (await import('./validate.ts')).runValidateCommand,
  },
  next: {
    summary: 'print the next run times of the PeriodicTasks in a file',
    load: async () => (await import('./next.ts')).runNextCommand,
  },
  timeline: {
    summary: 'draw how many runs of the PeriodicTasks in files fall in each minute or hour ahead',
    load: async () => (await import('./timeline.ts')).runTimelineCommand,
  },
  import: {
    summary: 'print the schedules of another Celery scheduler as PeriodicTask YAML',
    load: async () => (await import('./import.ts')).runImportCommand,
  },
  'run-now': {
    summary: 'standalone mode: run a task once more now (edits its manifest)',
    load: async () => (await import('./run-now.ts')).runRunNowCommand,
  },
  backfill: {
    summary: 'standalone mode: run the slots of a past range that did not run (edits its manifest)',
    load: async () => (await import('./backfill.ts')).runBackfillCommand,
  },
  pause: {
    summary: 'standalone mode: pause a task with a reason (edits its manifest)',
    load: async () => (await import('./pause.ts')).runPauseCommand,
  },
  resume: {
    summary: 'standalone mode: resume a paused task (edits its manifest)',
    load: async () => (await import('./resume.ts')).runResumeCommand,
  },
};

const USAGE = `Usage: celerybeat-operator [command] [flags]

A Kubernetes operator that is a Celery beat.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "celerybeat-operator <command> --help" for the flags of a command.`;

/** Runs the command named by argv[0] (`run` when argv starts with a flag or is empty); the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return (await COMMANDS.run!.load())(argv);
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) {
    process.stderr.write(`celerybeat-operator: unknown command "${first}"\n\n${USAGE}\n`);
    return 2;
  }
  return (await command.load())(rest);
}
