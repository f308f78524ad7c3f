// Reading PeriodicTask manifests from YAML files (multi-document), for `validate`, `next` and standalone mode,
// and the one rule of which documents are meant as PeriodicTasks. YAML is read as 1.1, as kubectl reads it
// (yes/no/on/off are booleans).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { GROUP, KIND, POLICY_KIND } from '../api/types.ts';
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

const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

export async function readManifestFile(path: string): Promise<ManifestDocument[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return [{ file: path, index: 0, line: 1, error: `cannot read file: ${(err as Error).message}` }];
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.1',
    lineCounter,
    prettyErrors: false,
    // kubectl reads an unquoted time (startTime: 2026-01-01T03:00:00Z) as the string it is, not a date.
    customTags: (tags) =>
      tags.filter((tag) => (typeof tag === 'string' ? tag !== 'timestamp' : tag.tag !== TIMESTAMP_TAG)),
  });
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
        // The parser's own stack ran out (flow collections nested thousands deep): say so, not how.
        error:
          firstError.code === 'RESOURCE_EXHAUSTION'
            ? 'YAML: nested too deeply to read'
            : `YAML: ${firstError.message.split('\n')[0]}`,
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
  if (isPolicyDocument(object)) return false;
  return kind === KIND || (typeof apiVersion === 'string' && apiVersion.startsWith(`${GROUP}/`));
}

/** Whether a document is a PeriodicTaskPolicy (standalone mode reads them from the manifest directory). */
export function isPolicyDocument(object: unknown): boolean {
  return typeof object === 'object' && object !== null && (object as { kind?: unknown }).kind === POLICY_KIND;
}
