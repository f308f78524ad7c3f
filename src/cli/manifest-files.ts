// Loading and validating the PeriodicTasks of manifest files for `validate` and `next`: one line per problem,
// naming the file, the line of the field, the resource and the field.
import type { FieldError, TaskDefinition } from '../api/types.ts';
import { taskKey, writtenNamespace } from '../api/types.ts';
import {
  expandManifestPaths,
  isPeriodicTaskDocument,
  type ManifestDocument,
  readManifestFile,
} from '../manifests/manifest-file.ts';
import { scheduleDayNote } from '../schedule/day-note.ts';
import { validatePeriodicTask } from '../validation/validate.ts';

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
  return taskKey(writtenNamespace(meta?.namespace), name);
}

function formatError(e: FieldError): string {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

/** The field that holds a schedule with a day note: the solar event, the five-field string or the crontab object. */
function scheduleField(object: unknown): string {
  const spec = (object as { spec?: { cron?: unknown; solar?: unknown } }).spec;
  if (spec?.solar != null) return 'spec.solar';
  return spec?.cron != null ? 'spec.cron' : 'spec.crontab';
}

/** Reads and validates every PeriodicTask in the given files and directories. */
export async function loadPeriodicTasks(
  paths: readonly string[],
  defaultTimeZone: string,
  keyPrefix?: string,
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
      const verdict = validatePeriodicTask(document.object, { defaultTimeZone, keyPrefix });
      if (!verdict.ok) {
        for (const e of verdict.errors)
          result.problems.push(`${where(document, e.field)} ${name}: ${formatError(e)}`);
        continue;
      }
      const key = taskKey(verdict.definition.namespace, verdict.definition.name);
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
      const warning = scheduleDayNote(schedule);
      if (warning !== null) {
        const field = scheduleField(document.object);
        result.warnings.push(`${where(document, field)} ${name}: ${field}: warning: ${warning}`);
      }
    }
  }
  return result;
}
