// The control plane's processes (etcd, kube-apiserver): each in its own process group, output appended to a
// log file, and addressed by pid so that another process (`testbed down`, the global teardown) can stop it.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { registerExitCleanup, withParentDeathSignal } from '../support/process.ts';

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
    // Tied to this process unless it must survive: killed at exit, and by the kernel (parent-death
    // signal) even if this process is SIGKILLed.
    const [file, argv] = options.survive ? [command, [...args]] : withParentDeathSignal(command, args);
    const child = spawn(file, argv, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
    });
    const { pid } = child;
    if (pid === undefined) throw new Error(`could not start ${command} (see ${logFile})`);
    // Never keep the event loop alive: a test process must be able to end while its control plane runs.
    child.unref();
    if (!options.survive) {
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
