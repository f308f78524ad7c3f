// Reading PeriodicTask manifests from YAML files (multi-document), shared by `validate`, `next` and the
// standalone mode. YAML is read as 1.1, as kubectl reads it (yes/no/on/off are booleans).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { FieldError, TaskDefinition } from '../api/types.ts';
import { GROUP, KIND } from '../api/types.ts';
import { validatePeriodicTask } from '../api/validate.ts';
import { crontabDayNote } from '../schedule/day-note.ts';
import { fieldLine } from './field-line.ts';

/**
 * One YAML document of a file: its parsed value, or why it could not be read. `line` is where the document
 * starts, or for an error the line of the error; `lineOf` finds the line of a field such as `spec.cron`.
 */
export type ManifestDocument =
  | {
      file: string;
      index: number;
      line: number;
      object: unknown;
      lineOf: (field: string) => number;
      error?: undefined;
    }
  | {
      file: string;
      index: number;
      line: number;
      object?: undefined;
      lineOf?: undefined;
      error: string;
    };

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
    const firstError = doc.errors[0];
    if (firstError) {
      out.push({
        file: path,
        index,
        // An unclosed quote or bracket is reported at the end of the text: the last line, not the one after.
        line: lineCounter.linePos(Math.max(0, Math.min(firstError.pos[0], text.trimEnd().length - 1))).line,
        error: `YAML: ${firstError.message.split('\n')[0]}`,
      });
      return;
    }
    const object: unknown = doc.toJS({ maxAliasCount: 100 });
    const lineOf = (field: string): number => fieldLine(doc, lineCounter, field) ?? line;
    // An empty document (a trailing "---", or comments only) declares nothing.
    if (object !== null && object !== undefined) out.push({ file: path, index, line, object, lineOf });
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

/** Why nothing was found, naming where it was looked for: the files, or the paths that held none. */
export function noPeriodicTaskMessage(paths: readonly string[], files: readonly string[]): string {
  if (files.length === 0)
    return `no PeriodicTask found: ${paths.join(', ')} has no *.yaml, *.yml or *.json file`;
  const shown = files.slice(0, 5).join(', ');
  const more = files.length > 5 ? ` and ${files.length - 5} more file(s)` : '';
  return `no PeriodicTask found in ${shown}${more}`;
}

export interface LoadedTask {
  document: ManifestDocument;
  definition: TaskDefinition;
}

export interface LoadResult {
  tasks: LoadedTask[];
  /** One line per problem: file:line of the field, resource, field and message. */
  problems: string[];
  /** One line per valid task whose meaning may surprise (same format; the message starts with "warning:"). */
  warnings: string[];
  /** The files read, directories expanded. */
  files: string[];
  /** Documents of other kinds that were skipped. */
  skipped: number;
}

function where(doc: ManifestDocument, field?: string): string {
  const line = field !== undefined && doc.lineOf !== undefined ? doc.lineOf(field) : doc.line;
  return `${doc.file}:${line}`;
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

/** The field that holds a crontab schedule: the five-field string or the object. */
function scheduleField(object: unknown): string {
  const spec = (object as { spec?: { cron?: unknown } }).spec;
  return spec?.cron !== undefined && spec.cron !== null ? 'spec.cron' : 'spec.crontab';
}

/** Reads and validates every PeriodicTask in the given files and directories. */
export async function loadPeriodicTasks(
  paths: readonly string[],
  defaultTimeZone: string,
): Promise<LoadResult> {
  const files = await expandManifestPaths(paths);
  const result: LoadResult = { tasks: [], problems: [], warnings: [], files, skipped: 0 };
  const seen = new Map<string, ManifestDocument>();
  for (const file of files) {
    for (const document of await readManifestFile(file)) {
      if (document.error !== undefined) {
        result.problems.push(`${where(document)}: ${document.error}`);
        continue;
      }
      if (!isPeriodicTaskDocument(document.object)) {
        result.skipped++;
        continue;
      }
      const name = resourceName(document.object);
      const verdict = validatePeriodicTask(document.object, { defaultTimeZone });
      if (!verdict.ok) {
        for (const e of verdict.errors)
          result.problems.push(`${where(document, e.field)} ${name}: ${formatError(e)}`);
        continue;
      }
      const key = `${verdict.definition.namespace}/${verdict.definition.name}`;
      const earlier = seen.get(key);
      if (earlier) {
        result.problems.push(
          `${where(document, 'metadata.name')} ${name}: metadata.name: Duplicate value: ${JSON.stringify(verdict.definition.name)} (also at ${where(earlier, 'metadata.name')})`,
        );
        continue;
      }
      seen.set(key, document);
      result.tasks.push({ document, definition: verdict.definition });
      const { schedule } = verdict.definition;
      const warning = schedule.kind === 'crontab' ? crontabDayNote(schedule) : null;
      if (warning !== null) {
        const field = scheduleField(document.object);
        result.warnings.push(`${where(document, field)} ${name}: ${field}: warning: ${warning}`);
      }
    }
  }
  return result;
}
