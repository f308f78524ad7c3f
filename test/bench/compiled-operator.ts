// The operator as users run it: the compiled dist/ (the container image and the npm package run it, not the
// TypeScript sources, whose type stripping alone would add tens of MB to the resident size).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const COMPILED_MAIN = `${ROOT}dist/cli/main.js`;

/** Builds dist/ from the current sources (tsc), once per benchmark process. */
let built = false;
export function buildOperator(): void {
  if (built) return;
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
  built = true;
}

/**
 * The Node.js flags the command's first line gives (`#!/usr/bin/env -S node <flags>`), which the installed
 * command and the image run with: started as `node dist/cli/main.js` it would not get them.
 */
export function commandFlags(): string[] {
  const [first = ''] = readFileSync(COMPILED_MAIN, 'utf8').split('\n', 1);
  const flags = /^#!\/usr\/bin\/env -S node(.*)$/.exec(first)?.[1]?.trim();
  if (flags === undefined) throw new Error(`${COMPILED_MAIN}: unexpected first line ${first}`);
  return flags === '' ? [] : flags.split(/\s+/);
}

/** Starts `celerybeat-operator run` from dist/ with the given flags; its output is kept for errors. */
export function spawnCompiledOperator(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string } {
  buildOperator();
  const child = spawn(process.execPath, [...commandFlags(), COMPILED_MAIN, 'run', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

/**
 * Standalone mode as the benchmarks run it: the tasks of a manifest directory, the store's Redis as broker, no
 * leader election, metrics and health on loopback ports.
 */
export function spawnStandaloneOperator(options: {
  manifests: string;
  redisUrl: string;
  logLevel: 'info' | 'warn';
  metricsPort: number;
  healthPort: number;
}): { child: ChildProcess; output: () => string } {
  return spawnCompiledOperator([
    '--manifests',
    options.manifests,
    '--redis-url',
    options.redisUrl,
    '--leader-elect',
    'none',
    '--log-level',
    options.logLevel,
    '--metrics-addr',
    `127.0.0.1:${options.metricsPort}`,
    '--health-addr',
    `127.0.0.1:${options.healthPort}`,
  ]);
}
