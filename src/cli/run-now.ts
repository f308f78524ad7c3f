// `celerybeat-operator run-now --manifests DIR NAME`: one extra run, through the run-now annotation of the
// task's manifest (the kubectl plugin's `run-now` for standalone mode).
import { type ManifestCommand, runManifestCommand } from './manifest-action.ts';
import { runNowPatch, runNowToken } from './task-edits.ts';

const USAGE = `Usage: celerybeat-operator run-now --manifests DIR NAME [-n NAMESPACE] [--token TEXT]

Sets the annotation celerybeat.io/run-now of the PeriodicTask NAME in its manifest file under DIR (the rest
of the file is left as it is). The operator in standalone mode re-reads the file and runs the task once more
for this token, whatever its schedule; the same token never runs twice.

Flags:
  --manifests DIR      the manifest directory (or file) of standalone mode
  -n, --namespace NS   the task's namespace (default: default)
  --token TEXT         the run-now token (default: the current time, ISO-8601 UTC)
  -h, --help           show this help

Exit status: 0 written, 1 no such task or the file cannot be edited, 2 bad usage.`;

const COMMAND: ManifestCommand = {
  name: 'run-now',
  usage: USAGE,
  options: { token: { type: 'string' } },
  edit(values, key) {
    const token = runNowToken(values.token as string | undefined, new Date());
    return { patch: runNowPatch(token), done: `${key}: run-now ${token}` };
  },
};

export function runRunNowCommand(argv: string[]): Promise<number> {
  return runManifestCommand(COMMAND, argv);
}
