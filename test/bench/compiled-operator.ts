// The operator as users run it: the compiled dist/ (the container image and the npm package run it, not the
// TypeScript sources, whose type stripping alone would add tens of MB to the resident size).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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

/** Starts `celerybeat-operator run` from dist/ with the given flags; its output is kept for errors. */
export function spawnCompiledOperator(
  args: readonly string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: () => string } {
  buildOperator();
  const child = spawn(process.execPath, [COMPILED_MAIN, 'run', ...args], {
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
