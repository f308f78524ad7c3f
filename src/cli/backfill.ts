// `celerybeat-operator backfill --manifests DIR NAME --from T --to T`: the slots of a past range that did not
// run, through the backfill annotation of the task's manifest (the kubectl plugin's `backfill`).
import { type ManifestCommand, runManifestCommand } from './manifest-action.ts';
import { backfillPatch, backfillRange } from './task-edits.ts';

const USAGE = `Usage: celerybeat-operator backfill --manifests DIR NAME --from RFC3339 --to RFC3339 [-n NAMESPACE]

Sets the annotation celerybeat.io/backfill of the PeriodicTask NAME in its manifest file under DIR to
"<from>/<to>" (the rest of the file is left as it is). The operator in standalone mode runs each slot of the
schedule in that range that has not run yet, once, oldest first.

Flags:
  --manifests DIR      the manifest directory (or file) of standalone mode
  -n, --namespace NS   the task's namespace (default: default)
  --from RFC3339       start of the range, such as 2026-12-01T00:00:00Z
  --to RFC3339         end of the range
  -h, --help           show this help

Exit status: 0 written, 1 no such task or the file cannot be edited, 2 bad usage.`;

const COMMAND: ManifestCommand = {
  name: 'backfill',
  usage: USAGE,
  options: { from: { type: 'string' }, to: { type: 'string' } },
  edit(values, key) {
    const range = backfillRange(values.from as string | undefined, values.to as string | undefined);
    return { patch: backfillPatch(range), done: `${key}: backfill ${range}` };
  },
};

export function runBackfillCommand(argv: string[]): Promise<number> {
  return runManifestCommand(COMMAND, argv);
}
