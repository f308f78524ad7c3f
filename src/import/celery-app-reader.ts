// `import --from celery-app`: runs celery-app-reader.py (shipped beside this module) with the user's Python in
// the app's directory, so the app loads exactly as `celery -A` would load it, and maps what it prints.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isPlainObject } from '../api/plain-object.ts';
import { celeryAppEntries, type DescribedApp } from './celery-app-entry.ts';
import type { SourceEntry } from './source-entry.ts';
import { SourceError } from './source-error.ts';

const READER = fileURLToPath(new URL('./celery-app-reader.py', import.meta.url));

export interface CeleryAppOptions {
  /** `module:attribute`, as `celery -A` takes it. */
  app: string;
  python: string;
  workdir: string;
  scheduleFile?: string;
  fallbackZone?: string;
}

export async function readCeleryApp(options: CeleryAppOptions): Promise<SourceEntry[]> {
  const args = [READER, options.app];
  if (options.scheduleFile !== undefined) args.push('--schedule-file', options.scheduleFile);
  const { code, stdout, stderr } = await run(options.python, args, options.workdir);
  if (code !== 0) {
    const last = stderr.trim().split('\n').at(-1) ?? '';
    throw new SourceError(last || `${options.python} exited with ${code}`);
  }
  let described: unknown;
  try {
    described = JSON.parse(stdout);
  } catch {
    throw new SourceError(`${options.python} did not print the schedule: ${stdout.slice(0, 200)}`);
  }
  if (!isPlainObject(described) || !Array.isArray(described.entries)) {
    throw new SourceError('the reader printed something other than a schedule');
  }
  return celeryAppEntries(described as unknown as DescribedApp, options.fallbackZone);
}

function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (error) => reject(new SourceError(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
