// `celerybeat-operator import --from SOURCE …`: the schedules of another Celery scheduler as PeriodicTask YAML
// on stdout, one document per schedule; what cannot be expressed is reported per entry on stderr.
import { parseArgs } from 'node:util';
import { writtenNamespace } from '../api/types.ts';
import type { ImportSourceName } from '../import/manifests.ts';
import type { SourceEntry } from '../import/source-entry.ts';
import { redactUrl } from '../observe/redact-url.ts';
import { isKnownTimeZone } from '../schedule/zone.ts';
import { checkFlags, UsageError } from './flag-check.ts';

const USAGE = `Usage: celerybeat-operator import --from SOURCE [flags] [APP]

Prints the schedules of another Celery scheduler as PeriodicTask YAML (celerybeat.io/v1alpha1), one
document per schedule, for kubectl apply or a manifest directory. Each task carries its run state over in
the annotations celerybeat.io/last-run-at and celerybeat.io/total-run-count, so its next run is the one the
old scheduler would have made. An entry that cannot be expressed is reported on stderr and not printed.

Sources:
  --from celerybeat-redis --redis-url URL [--key-prefix tasks:meta:]
        hand-written celerybeat-redis keys (keys with an "owner" are the operator's own: skipped)
  --from redbeat --redis-url URL [--key-prefix redbeat:]
        RedBeat entries (the hashes <prefix><name>)
  --from django-celery-beat --database URL
        postgres://user:password@host:5432/db, sqlite:///relative/path or sqlite:////absolute/path
  --from celery-app APP [--python python3] [--workdir DIR] [--schedule-file FILE]
        the beat_schedule of a Celery app, APP as for "celery -A" (proj.celery:app), loaded with that
        Python in DIR; FILE is the state file of "celery beat" (celerybeat-schedule), for the run state

Flags:
  --namespace NS      metadata.namespace of every task (default "default")
  --timezone ZONE     time zone of crontab entries whose source names none (RedBeat and celerybeat-redis
                      entries run in the Celery app's zone: give it here); default: none, the operator's
  -h, --help          show this help

Exit status: 0 every schedule printed, 1 a schedule was reported or none was found, or the source could
not be read, 2 bad usage.`;

const OPTIONS = {
  from: { type: 'string' },
  namespace: { type: 'string' },
  'redis-url': { type: 'string' },
  'key-prefix': { type: 'string' },
  database: { type: 'string' },
  python: { type: 'string' },
  workdir: { type: 'string' },
  'schedule-file': { type: 'string' },
  timezone: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

const SOURCES: Record<ImportSourceName, { flags: readonly (keyof typeof OPTIONS)[]; app?: true }> = {
  'celerybeat-redis': { flags: ['redis-url', 'key-prefix'] },
  redbeat: { flags: ['redis-url', 'key-prefix'] },
  'django-celery-beat': { flags: ['database'] },
  'celery-app': { flags: ['python', 'workdir', 'schedule-file'], app: true },
};

const COMMON = new Set(['from', 'namespace', 'timezone', 'help']);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function parse(argv: string[]) {
  checkFlags(argv, OPTIONS, true);
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', resolve);
  });
}

export async function runImportCommand(argv: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  let source: ImportSourceName;
  try {
    ({ values, positionals } = parse(argv));
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    source = checkUsage(values, positionals);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    process.stderr.write(`celerybeat-operator import: ${error.message.split('\n')[0]}\n`);
    return 2;
  }
  const [{ buildManifests }, { manifestsYaml }, { SourceError }] = await Promise.all([
    import('../import/manifests.ts'),
    import('../import/yaml-output.ts'),
    import('../import/source-error.ts'),
  ]);
  let entries: SourceEntry[];
  try {
    entries = await readSource(source, values, positionals);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const secretFree = hideSecrets(error.message, [values['redis-url'], values.database]);
    process.stderr.write(`celerybeat-operator import: ${secretFree}\n`);
    return 1;
  }
  const { documents, problems } = buildManifests(entries, {
    namespace: writtenNamespace(values.namespace),
    source,
    ...(values.timezone !== undefined ? { crontabTimeZone: values.timezone } : {}),
  });
  await write(process.stdout, manifestsYaml(documents));
  for (const problem of problems) {
    process.stderr.write(`celerybeat-operator import: ${JSON.stringify(problem.name)}: ${problem.message}\n`);
  }
  if (entries.length === 0) {
    process.stderr.write(
      `celerybeat-operator import: no schedules found in ${where(source, values, positionals)}\n`,
    );
    return 1;
  }
  if (problems.length > 0) {
    process.stderr.write(
      `celerybeat-operator import: ${documents.length} PeriodicTask(s) printed, ${problems.length} schedule(s) not imported\n`,
    );
    return 1;
  }
  return 0;
}

function checkUsage(values: Values, positionals: string[]): ImportSourceName {
  const from = values.from;
  if (from === undefined)
    throw new UsageError('--from is required: celerybeat-redis, redbeat, django-celery-beat or celery-app');
  if (!Object.hasOwn(SOURCES, from)) {
    throw new UsageError(
      `--from must be celerybeat-redis, redbeat, django-celery-beat or celery-app, got ${JSON.stringify(from)}`,
    );
  }
  const source = from as ImportSourceName;
  const spec = SOURCES[source];
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || COMMON.has(flag)) continue;
    if (!spec.flags.includes(flag as keyof typeof OPTIONS)) {
      throw new UsageError(`--${flag} does not apply to --from ${source} (see --help)`);
    }
  }
  if (spec.app ? positionals.length !== 1 : positionals.length > 0) {
    throw new UsageError(
      spec.app
        ? 'give the app as one argument, as for "celery -A": proj.celery:app'
        : `unexpected argument ${JSON.stringify(positionals[0])} (see --help)`,
    );
  }
  const namespace = values.namespace;
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    throw new UsageError(`--namespace must be a lowercase RFC 1123 label, got ${JSON.stringify(namespace)}`);
  }
  if (values.timezone !== undefined && !isKnownTimeZone(values.timezone)) {
    throw new UsageError(`--timezone: unknown IANA time zone ${JSON.stringify(values.timezone)}`);
  }
  if (spec.flags.includes('redis-url')) checkUrl('--redis-url', values['redis-url'], ['redis:', 'rediss:']);
  if (spec.flags.includes('database')) {
    checkUrl('--database', values.database, ['postgres:', 'postgresql:', 'sqlite:']);
  }
  if (values['key-prefix'] === '') throw new UsageError('--key-prefix must not be empty');
  return source;
}

function checkUrl(flag: string, url: string | undefined, schemes: readonly string[]): void {
  if (url === undefined) throw new UsageError(`${flag} is required for this source (see --help)`);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError(`${flag} is not a URL: ${redactUrl(url)}`);
  }
  if (!schemes.includes(protocol)) {
    throw new UsageError(
      `${flag} must start with ${schemes.map((s) => `${s}//`).join(', ')}, got ${redactUrl(url)}`,
    );
  }
}

async function readSource(
  source: ImportSourceName,
  values: Values,
  positionals: string[],
): Promise<SourceEntry[]> {
  switch (source) {
    case 'celerybeat-redis': {
      const { readCelerybeatRedis } = await import('../import/celerybeat-redis-reader.ts');
      return readCelerybeatRedis(values['redis-url']!, values['key-prefix'] ?? 'tasks:meta:');
    }
    case 'redbeat': {
      const { readRedBeat } = await import('../import/redbeat-reader.ts');
      return readRedBeat(values['redis-url']!, values['key-prefix'] ?? 'redbeat:');
    }
    case 'django-celery-beat': {
      const { readDjangoCeleryBeat } = await import('../import/django-celery-beat-reader.ts');
      return readDjangoCeleryBeat(values.database!);
    }
    case 'celery-app': {
      const { readCeleryApp } = await import('../import/celery-app-reader.ts');
      return readCeleryApp({
        app: positionals[0]!,
        python: values.python ?? 'python3',
        workdir: values.workdir ?? process.cwd(),
        ...(values['schedule-file'] !== undefined ? { scheduleFile: values['schedule-file'] } : {}),
        ...(values.timezone !== undefined ? { fallbackZone: values.timezone } : {}),
      });
    }
  }
}

function where(source: ImportSourceName, values: Values, positionals: string[]): string {
  switch (source) {
    case 'celerybeat-redis':
    case 'redbeat':
      return `${redactUrl(values['redis-url']!)} under "${values['key-prefix'] ?? (source === 'redbeat' ? 'redbeat:' : 'tasks:meta:')}"`;
    case 'django-celery-beat':
      return redactUrl(values.database!);
    case 'celery-app':
      return `the beat_schedule of ${positionals[0]}`;
  }
}

/** A client's error text with any password of the given URLs taken out. */
function hideSecrets(message: string, urls: readonly (string | undefined)[]): string {
  let out = message;
  for (const url of urls) {
    if (url === undefined) continue;
    try {
      const { password, username } = new URL(url);
      for (const secret of [password, username && !password ? username : '']) {
        if (secret.length < 3) continue;
        out = out.replaceAll(secret, '***').replaceAll(decodeURIComponent(secret), '***');
      }
    } catch {
      // An unparseable URL was refused before anything was read.
    }
  }
  return out;
}
