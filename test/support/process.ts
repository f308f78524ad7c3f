// Child processes the tests start (redis-server, celery workers, etcd, kube-apiserver): their output is
// kept for failure messages, and every one still running is killed when the test process exits or is
// interrupted, so a failing or cancelled test leaves nothing behind.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const running = new Set<ChildProcess>();
const exitKills = new Set<() => void>();
const exitRemovals = new Set<() => void>();
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanUp = (): void => {
    for (const child of running) killGroup(child, 'SIGKILL');
    // Processes first, files after: removing a directory under a running etcd makes it fail half-way.
    // One failing step must not keep the others from running.
    for (const fn of [...exitKills, ...exitRemovals]) {
      try {
        fn();
      } catch {
        // Best effort while exiting.
      }
    }
  };
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Runs `fn` (synchronous: a kill, or an rmSync with `kind: 'remove'`) if this process exits or is interrupted
 * before the returned function is called. For resources not started with startProcess (e.g. the control
 * plane's daemons and directory). All kills run before all removals.
 */
export function registerExitCleanup(fn: () => void, kind: 'kill' | 'remove' = 'kill'): () => void {
  installExitHooks();
  const set = kind === 'kill' ? exitKills : exitRemovals;
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

const SETPRIV = '/usr/bin/setpriv';

/** Wraps a command so the kernel SIGKILLs it when this process dies, however it dies (util-linux setpriv). */
export function withParentDeathSignal(command: string, args: readonly string[]): [string, string[]] {
  return existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]]
    : [command, [...args]];
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** stdout and stderr so far (the last 1 MB). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_OUTPUT = 1 << 20;

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ManagedProcess {
  installExitHooks();
  // Its own process group, so stop() also reaches its children (Celery's prefork pool, for one).
  const [file, argv] = withParentDeathSignal(command, args);
  const child = spawn(file, argv, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let done = false;
  const append = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    if (out.length > MAX_OUTPUT) out = out.slice(out.length - MAX_OUTPUT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      append(Buffer.from(`\n[${name}: failed to start ${command}: ${err.message}]\n`));
      done = true;
      running.delete(child);
      resolve('spawn-error');
    });
    child.on('exit', (code, signal) => {
      done = true;
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (done) return;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // Whatever the leader left behind in its group (e.g. pool children) goes too.
    killGroup(child, 'SIGKILL');
  };
  return { name, child, output: () => out, exited, hasExited: () => done, stop };
}

/** The last `lines` lines of a process's output, for an error message. */
export function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}
