// Standalone mode's run-now, backfill, pause and resume: the same merge patch the kubectl plugin sends, written
// into the PeriodicTask's document in its manifest file. Standalone mode re-reads changed files, so the
// operator acts on it as it would on the resource. The file is replaced by a rename, never left half written.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { taskKey, writtenNamespace } from '../api/types.ts';
import {
  expandManifestPaths,
  isPeriodicTaskDocument,
  type ManifestDocument,
  readManifestFile,
} from '../manifests/manifest-file.ts';
import { checkFlags, UsageError } from './flag-check.ts';
import { patchManifestText } from './manifest-edit.ts';
import type { TaskPatch } from './task-edits.ts';

/** A failure that is not a usage mistake: the task is missing, or its file cannot be edited. */
export class ActionError extends Error {}

interface Located {
  file: string;
  document: Extract<ManifestDocument, { error?: undefined }>;
}

function identity(object: unknown): { namespace: string; name: string } | null {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  if (typeof meta?.name !== 'string') return null;
  return { namespace: writtenNamespace(meta.namespace), name: meta.name };
}

async function locate(paths: readonly string[], namespace: string, name: string): Promise<Located> {
  const found: Located[] = [];
  const unreadable: string[] = [];
  for (const file of await expandManifestPaths(paths)) {
    for (const document of await readManifestFile(file)) {
      if (document.error !== undefined) {
        unreadable.push(`${file}:${document.line}: ${document.error}`);
        continue;
      }
      if (!isPeriodicTaskDocument(document.object)) continue;
      const id = identity(document.object);
      if (id?.namespace === namespace && id.name === name) found.push({ file, document });
    }
  }
  const key = taskKey(namespace, name);
  if (found.length > 1) {
    const where = found.map((f) => `${f.file}:${f.document.lineOf('metadata.name')}`).join(', ');
    throw new ActionError(`PeriodicTask ${key} is defined more than once: ${where}`);
  }
  if (found[0]) return found[0];
  const note = unreadable.length > 0 ? ` (not readable: ${unreadable.join('; ')})` : '';
  throw new ActionError(`no PeriodicTask ${key} in ${paths.join(', ')}${note}`);
}

/** Writes `text` over `file` atomically, keeping its mode; a symbolic link's target is what changes. */
async function replaceFile(file: string, text: string): Promise<void> {
  const target = await realpath(file);
  const { mode } = await stat(target);
  // Not *.yaml: the operator watching the directory must not read the temporary file as a manifest.
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await chmod(temporary, mode & 0o7777);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Applies the patch to the task's document; returns where it is, as `file:line`. */
export async function patchManifestTask(
  paths: readonly string[],
  namespace: string,
  name: string,
  patch: TaskPatch,
): Promise<string> {
  const { file, document } = await locate(paths, namespace, name);
  const text = await readFile(file, 'utf8');
  let edited: string;
  try {
    edited = patchManifestText(text, document.index, { ...patch }, /\.json$/i.test(file));
  } catch (error) {
    throw new ActionError(
      `cannot edit ${file}:${document.lineOf('metadata.name')} (${(error as Error).message}); edit the PeriodicTask by hand`,
    );
  }
  if (edited !== text) await replaceFile(file, edited);
  return `${file}:${document.lineOf('metadata.name')}`;
}

const COMMON_OPTIONS = {
  manifests: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export type FlagValues = Record<string, string | boolean | undefined>;

export interface ManifestCommand {
  name: string;
  usage: string;
  options: ParseArgsOptionsConfig;
  /** The patch and the line to print, from the command's own flags; throws UsageError on a bad value. */
  edit(values: FlagValues, key: string): { patch: TaskPatch; done: string };
}

/** Parses `[--manifests DIR] NAME [-n NS]` and the command's flags, edits the file, prints one line. */
export async function runManifestCommand(command: ManifestCommand, argv: string[]): Promise<number> {
  const prefix = `celerybeat-operator ${command.name}`;
  const options = { ...COMMON_OPTIONS, ...command.options };
  try {
    checkFlags(argv, options, true);
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const flags = values as FlagValues;
    if (flags.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    if (typeof flags.manifests !== 'string' || flags.manifests === '')
      throw new UsageError('--manifests DIR is required: the directory (or file) of the PeriodicTask');
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0
          ? 'no NAME given (see --help)'
          : `one NAME only, got ${positionals.join(' ')}`,
      );
    const name = positionals[0]!;
    const namespace = writtenNamespace(flags.namespace);
    const key = taskKey(namespace, name);
    const { patch, done } = command.edit(flags, key);
    const where = await patchManifestTask([flags.manifests], namespace, name, patch);
    process.stdout.write(`${done} (${where})\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${prefix}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`${prefix}: ${(error as Error).message}\n`);
    return 1;
  }
}
