// The control plane's processes (etcd, kube-apiserver): each in its own process group, output appended to a
// log file, and addressed by pid so that another process (`testbed down`, the global teardown) can stop it.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { registerExitCleanup } from '../support/process.ts';

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  /** Keep running after this Node process exits (`testbed up`); otherwise it is killed at exit. */
  survive?: boolean;
}

export function spawnDaemon(
  command: string,
  args: readonly string[],
  logFile: string,
  options: DaemonOptions = {},
): number {
  accessSync(command, constants.X_OK);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
    });
    const { pid } = child;
    if (pid === undefined) throw new Error(`could not start ${command} (see ${logFile})`);
    if (options.survive) {
      child.unref();
    } else {
      const unregister = registerExitCleanup(() => signalGroup(pid, 'SIGKILL'));
      child.on('exit', unregister);
    }
    return pid;
  } finally {
    closeSync(fd);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** True while the process exists and is not a zombie (a container's init may not reap it at once). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopDaemon(pid: number, graceMs = 10_000): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (isRunning(pid)) {
    if (!killed && Date.now() > deadline) {
      signalGroup(pid, 'SIGKILL');
      killed = true;
    }
    if (killed && Date.now() > deadline + 10_000) throw new Error(`process ${pid} survived SIGKILL for 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
