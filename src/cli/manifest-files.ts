// Reading PeriodicTask manifests from YAML files (multi-document), shared by `validate`, `next` and the
// standalone mode. YAML is read as 1.1, as kubectl reads it (yes/no/on/off are booleans).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { FieldError, TaskDefinition } from '../api/types.ts';
import { GROUP, KIND } from '../api/types.ts';
import { validatePeriodicTask } from '../api/validate.ts';

/** One YAML document of a file: its parsed value, or why it could not be read. */
export type ManifestDocument =
  | { file: string; index: number; line: number; object: unknown; error?: undefined }
  | { file: string; index: number; line: number; object?: undefined; error: string };

export async function readManifestFile(path: string): Promise<ManifestDocument[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return [{ file: path, index: 0, line: 1, error: `cannot read file: ${(err as Error).message}` }];
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const out: ManifestDocument[] = [];
  docs.forEach((doc, index) => {
    const line = lineCounter.linePos(doc.range[0]).line;
    if (doc.errors.length > 0) {
      out.push({ file: path, index, line, error: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` });
      return;
    }
    const object: unknown = doc.toJS({ maxAliasCount: 100 });
    // An empty document (a trailing "---", or comments only) declares nothing.
    if (object !== null && object !== undefined) out.push({ file: path, index, line, object });
  });
  return out;
}

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

/** The files named on a command line; a directory stands for its *.yaml, *.yml and *.json files. */
export async function expandManifestPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => null);
    if (info?.isDirectory()) {
      const names = (await readdir(p)).filter((n) => MANIFEST_EXTENSIONS.test(n)).sort();
      out.push(...names.map((n) => join(p, n)));
    } else out.push(p);
  }
  return out;
}

/** Whether a document is meant to be a PeriodicTask (other kinds may share a file and are left alone). */
export function isPeriodicTaskDocument(object: unknown): boolean {
  if (typeof object !== 'object' || object === null) return true;
  const { kind, apiVersion } = object as { kind?: unknown; apiVersion?: unknown };
  return kind === KIND || (typeof apiVersion === 'string' && apiVersion.startsWith(`${GROUP}/`));
}

export interface LoadedTask {
  document: ManifestDocument;
  definition: TaskDefinition;
}

export interface LoadResult {
  tasks: LoadedTask[];
  /** One line per problem: file, document, resource and field. */
  problems: string[];
  /** Documents of other kinds that were skipped. */
  skipped: number;
}

function where(doc: ManifestDocument): string {
  return `${doc.file}:${doc.line}`;
}

function resourceName(object: unknown): string {
  const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
  const name = typeof meta?.name === 'string' ? meta.name : '<unnamed>';
  const namespace = typeof meta?.namespace === 'string' ? meta.namespace : 'default';
  return `${namespace}/${name}`;
}

function formatError(e: FieldError): string {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

/** Reads and validates every PeriodicTask in the given files and directories. */
export async function loadPeriodicTasks(
  paths: readonly string[],
  defaultTimeZone: string,
): Promise<LoadResult> {
  const result: LoadResult = { tasks: [], problems: [], skipped: 0 };
  const seen = new Map<string, ManifestDocument>();
  for (const file of await expandManifestPaths(paths)) {
    for (const document of await readManifestFile(file)) {
      if (document.error !== undefined) {
        result.problems.push(`${where(document)}: ${document.error}`);
        continue;
      }
      if (!isPeriodicTaskDocument(document.object)) {
        result.skipped++;
        continue;
      }
      const label = `${where(document)} ${resourceName(document.object)}`;
      const verdict = validatePeriodicTask(document.object, { defaultTimeZone });
      if (!verdict.ok) {
        for (const e of verdict.errors) result.problems.push(`${label}: ${formatError(e)}`);
        continue;
      }
      const key = `${verdict.definition.namespace}/${verdict.definition.name}`;
      const earlier = seen.get(key);
      if (earlier) {
        result.problems.push(
          `${label}: metadata.name: Duplicate value: ${JSON.stringify(verdict.definition.name)} (also at ${where(earlier)})`,
        );
        continue;
      }
      seen.set(key, document);
      result.tasks.push({ document, definition: verdict.definition });
    }
  }
  return result;
}
