#!/usr/bin/env node
// Entry point of the `celerybeat-operator` command: picks the sub-command and hands it the rest of argv.
import { runNextCommand } from './next.ts';
import { runRunCommand } from './run.ts';
import { runValidateCommand } from './validate.ts';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: runRunCommand, summary: 'run the operator (the default command)' },
  validate: { run: runValidateCommand, summary: 'check PeriodicTask manifests in files' },
  next: { run: runNextCommand, summary: 'print the next run times of the PeriodicTasks in a file' },
};

const USAGE = `Usage: celerybeat-operator [command] [flags]

A Kubernetes operator that is a Celery beat.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "celerybeat-operator <command> --help" for the flags of a command.`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return COMMANDS.run!.run(argv);
  const command = COMMANDS[first];
  if (!command) {
    process.stderr.write(`celerybeat-operator: unknown command "${first}"\n\n${USAGE}\n`);
    return 2;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));
