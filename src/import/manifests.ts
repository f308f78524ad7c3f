// The PeriodicTask documents of an import: DNS-safe names, the namespace, the annotations that say where a
// task came from, carry its run state and its original name (which the operator sends as a header for task
// code). Every document is checked with the operator's own validator; one it refuses is reported, never printed.
import {
  IMPORTED_FROM_ANNOTATION,
  LAST_RUN_AT_ANNOTATION,
  ORIGINAL_NAME_ANNOTATION,
  TOTAL_RUN_COUNT_ANNOTATION,
} from '../api/annotations.ts';
import { API_VERSION, KIND, type PeriodicTask, type PeriodicTaskSpec } from '../api/types.ts';
import { validatePeriodicTask } from '../validation/validate.ts';
import { assignNames } from './dns-names.ts';
import { isoInstant } from './iso-time.ts';
import type { SourceEntry } from './source-entry.ts';

/**
 * The header the operator fills from the original-name annotation. A source schedule that sets it itself (one
 * moved before) keeps its value, as the annotation: the header is reserved in a PeriodicTask's own headers.
 */
const ORIGINAL_NAME_HEADER = 'original_periodic_task_name';

export type ImportSourceName = 'celerybeat-redis' | 'redbeat' | 'django-celery-beat' | 'celery-app';

export interface ManifestOptions {
  namespace: string;
  source: ImportSourceName;
  /** Zone of crontab entries whose source names none; undefined leaves timeZone to the operator. */
  crontabTimeZone?: string;
}

export interface ImportProblem {
  /** The schedule's name in the source. */
  name: string;
  message: string;
}

export interface ImportResult {
  documents: PeriodicTask[];
  problems: ImportProblem[];
}

export function buildManifests(entries: readonly SourceEntry[], options: ManifestOptions): ImportResult {
  const names = assignNames(entries.map((e) => e.name));
  const documents: PeriodicTask[] = [];
  const problems: ImportProblem[] = [];
  for (const entry of entries) {
    if (!entry.ok) {
      problems.push({ name: entry.name, message: entry.problem });
      continue;
    }
    const task = manifestOf(entry, names.get(entry.name) ?? entry.name, options);
    // The operator's default zone is irrelevant here: a task without timeZone is checked against UTC.
    const verdict = validatePeriodicTask(task, { defaultTimeZone: 'UTC' });
    if (verdict.ok) documents.push(task);
    else {
      const message = verdict.errors
        .map((e) => (e.field ? `${e.field}: ${e.message}` : e.message))
        .join('; ');
      problems.push({ name: entry.name, message });
    }
  }
  return { documents, problems };
}

function manifestOf(
  entry: Extract<SourceEntry, { ok: true }>,
  name: string,
  options: ManifestOptions,
): PeriodicTask {
  const annotations: Record<string, string> = { [IMPORTED_FROM_ANNOTATION]: options.source };
  const { spec, originalName } = withoutOriginalNameHeader(entry.spec, entry.name);
  annotations[ORIGINAL_NAME_ANNOTATION] = originalName;
  if (entry.lastRunAt !== null) {
    annotations[LAST_RUN_AT_ANNOTATION] = isoInstant(entry.lastRunAt);
    annotations[TOTAL_RUN_COUNT_ANNOTATION] = String(entry.totalRunCount);
  }
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: options.namespace, annotations },
    spec: withZone(spec, options.crontabTimeZone),
  };
}

function withZone(spec: PeriodicTaskSpec, zone: string | undefined): PeriodicTaskSpec {
  if (zone === undefined || spec.timeZone !== undefined) return spec;
  if (spec.crontab === undefined && spec.cron === undefined) return spec;
  return insertAfter(spec, spec.crontab !== undefined ? 'crontab' : 'cron', { timeZone: zone });
}

function withoutOriginalNameHeader(
  spec: PeriodicTaskSpec,
  name: string,
): { spec: PeriodicTaskSpec; originalName: string } {
  const headers = spec.options?.headers;
  const value = headers?.[ORIGINAL_NAME_HEADER];
  if (!headers || !Object.hasOwn(headers, ORIGINAL_NAME_HEADER)) return { spec, originalName: name };
  const { [ORIGINAL_NAME_HEADER]: _moved, ...rest } = headers;
  const { headers: _all, ...others } = spec.options ?? {};
  const options = Object.keys(rest).length > 0 ? { ...others, headers: rest } : others;
  return { spec: { ...spec, options }, originalName: typeof value === 'string' ? value : name };
}

/** The spec with `extra` placed right after `key`, so the YAML reads in the resource's field order. */
function insertAfter(
  spec: PeriodicTaskSpec,
  key: string,
  extra: Partial<PeriodicTaskSpec>,
): PeriodicTaskSpec {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    out[k] = v;
    if (k === key) Object.assign(out, extra);
  }
  return out as unknown as PeriodicTaskSpec;
}
