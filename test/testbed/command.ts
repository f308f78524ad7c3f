// Runs kubectl or helm and hands back stdout; a non-zero exit becomes a CommandError carrying stderr, so a
// test can assert on a denial ("Forbidden") as easily as on a success.
import { spawn } from 'node:child_process';

export interface CommandOptions {
  /** Written to the command's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

export class CommandError extends Error {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(command: string, code: number | null, stdout: string, stderr: string) {
    super(`${command} exited with ${code}: ${stderr.trim() || stdout.trim()}`);
    this.name = 'CommandError';
    this.code = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export function runCommand(
  command: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new Error(`could not run ${command}: ${e.message}`)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const shown = `${command.split('/').pop()} ${args.join(' ')}`;
      if (code === 0) resolve(stdout);
      else reject(new CommandError(shown, code, stdout, stderr));
    });
    // A command that exits without reading its input closes the pipe first: its exit status tells the rest.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
