// `celerybeat-operator pause --manifests DIR NAME --reason TEXT [--until T]`: spec.pause in the task's
// manifest (the kubectl plugin's `pause`).
import { type ManifestCommand, runManifestCommand } from './manifest-action.ts';
import { pausePatch, pauseSpec } from './task-edits.ts';

const USAGE = `Usage: celerybeat-operator pause --manifests DIR NAME --reason TEXT [--until RFC3339] [-n NAMESPACE]

Sets spec.pause of the PeriodicTask NAME in its manifest file under DIR (the rest of the file is left as it
is): no runs until "resume", or until --until, when it resumes by itself. Slots inside the pause are counted
as skipped by pause, not as missed.

Flags:
  --manifests DIR      the manifest directory (or file) of standalone mode
  -n, --namespace NS   the task's namespace (default: default)
  --reason TEXT        why (shown in the task's Ready condition and log line)
  --until RFC3339      resume by itself then, such as 2026-12-24T18:00:00Z
  -h, --help           show this help

Exit status: 0 written, 1 no such task or the file cannot be edited, 2 bad usage.`;

const COMMAND: ManifestCommand = {
  name: 'pause',
  usage: USAGE,
  options: { reason: { type: 'string' }, until: { type: 'string' } },
  edit(values, key) {
    const pause = pauseSpec(values.reason as string | undefined, values.until as string | undefined);
    const until = pause.until === undefined ? '' : ` until ${pause.until}`;
    return { patch: pausePatch(pause), done: `${key}: paused${until}: ${pause.reason}` };
  },
};

export function runPauseCommand(argv: string[]): Promise<number> {
  return runManifestCommand(COMMAND, argv);
}
