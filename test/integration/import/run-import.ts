// Runs the real `celerybeat-operator import` (and `validate` on what it printed) as child processes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { PeriodicTask } from '../../../src/api/types.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
export const PYTHON = '/usr/bin/python3';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], cwd?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd, env: { ...process.env, TIMEZONE: '' }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function runPython(args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [...args],
      { cwd, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** The documents import printed, after `validate` accepted them all. */
export async function importedTasks(result: CommandResult): Promise<Map<string, PeriodicTask>> {
  const docs = parseAllDocuments(result.stdout).map((d) => d.toJS() as PeriodicTask);
  const dir = await mkdtemp(join(tmpdir(), 'imported-'));
  try {
    const file = join(dir, 'imported.yaml');
    await writeFile(file, result.stdout);
    const verdict = await runCli(['validate', file]);
    assert.equal(verdict.code, 0, `validate refused the import:\n${verdict.stderr}\n${result.stdout}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return new Map(
    docs.map((d) => [d.metadata.annotations?.['celerybeat.io/original-name'] ?? d.metadata.name, d]),
  );
}

/** The per-entry problem lines of stderr, by the entry's name in the source. */
export function reported(stderr: string): Map<string, string> {
  const lines = stderr.split('\n').filter((l) => l.startsWith('celerybeat-operator import: "'));
  return new Map(
    lines.map((l) => {
      const rest = l.slice('celerybeat-operator import: '.length);
      const end = rest.indexOf('": ');
      return [JSON.parse(rest.slice(0, end + 1)) as string, rest.slice(end + 3)];
    }),
  );
}
