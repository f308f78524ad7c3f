// `celerybeat-operator resume --manifests DIR NAME`: removes spec.pause from the task's manifest and sets the
// resumed-at annotation, which also lifts a pause after failures (the kubectl plugin's `resume`).
import { type ManifestCommand, runManifestCommand } from './manifest-action.ts';
import { resumePatch } from './task-edits.ts';

const USAGE = `Usage: celerybeat-operator resume --manifests DIR NAME [-n NAMESPACE]

Removes spec.pause from the PeriodicTask NAME in its manifest file under DIR and sets its annotation
celerybeat.io/resumed-at to the current time, which lifts a pause after failures (spec.pauseAfterFailures)
and starts the count of failures over (the rest of the file is left as it is): the task runs again from its
next slot.

Flags:
  --manifests DIR      the manifest directory (or file) of standalone mode
  -n, --namespace NS   the task's namespace (default: default)
  -h, --help           show this help

Exit status: 0 written, 1 no such task or the file cannot be edited, 2 bad usage.`;

const COMMAND: ManifestCommand = {
  name: 'resume',
  usage: USAGE,
  options: {},
  edit(_values, key) {
    return { patch: resumePatch(new Date()), done: `${key}: resumed` };
  },
};

export function runResumeCommand(argv: string[]): Promise<number> {
  return runManifestCommand(COMMAND, argv);
}
