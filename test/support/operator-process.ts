// Runs the real `celerybeat-operator run` command as a child process (Node 24, sources as they are).
import { fileURLToPath } from 'node:url';
import { waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess } from './process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface OperatorProcess {
  readonly process: ManagedProcess;
  /** The JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  waitForLog(
    what: string,
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** The text of its /metrics endpoint. */
  metrics(): Promise<string>;
  /** The status and body of a health probe path (`/healthz`, `/readyz`, with `?verbose` if wanted). */
  probe(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | string>;
  /** SIGKILL: no shutdown work at all. */
  kill(): Promise<void>;
}

/** The value of a counter with the given labels in Prometheus text, 0 when absent. */
export function counterValue(metricsText: string, series: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Starts `run` with the given flags; metrics and health listen on free loopback ports. */
export function startOperator(args: readonly string[], env: Record<string, string> = {}): OperatorProcess {
  const proc = startProcess(
    'celerybeat-operator',
    process.execPath,
    [
      MAIN,
      'run',
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
      '--log-level',
      'debug',
      ...args,
    ],
    { env: { ...process.env, ...env } },
  );
  const logs = (): Array<Record<string, unknown>> =>
    proc
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  return {
    process: proc,
    logs,
    waitForLog: (what, match, timeoutMs = 15_000) =>
      waitUntil(
        `operator log: ${what}\n${proc.output().slice(-3000)}`,
        () => {
          if (proc.hasExited()) throw new Error(`operator exited early:\n${proc.output().slice(-3000)}`);
          return logs().some(match);
        },
        timeoutMs,
      ),
    metrics: async () => {
      const line = logs().find((l) => typeof l.metricsPort === 'number');
      if (!line) throw new Error('the operator has not logged its metrics port yet');
      return (await fetch(`http://127.0.0.1:${line.metricsPort}/metrics`)).text();
    },
    probe: async (path) => {
      const line = logs().find((l) => typeof l.healthPort === 'number');
      if (!line) throw new Error('the operator has not logged its health port yet');
      const response = await fetch(`http://127.0.0.1:${line.healthPort}${path}`);
      return { status: response.status, body: await response.text() };
    },
    stop: async () => {
      await proc.stop(15_000);
      // A rejection or exception nobody handled is a defect wherever it happens: every test that runs the
      // operator sees it.
      const escaped = logs().filter((l) => /^(unhandled rejection|uncaught exception)/.test(String(l.msg)));
      if (escaped.length > 0)
        throw new Error(`the operator logged an escaped error: ${JSON.stringify(escaped[0])}`);
      return proc.exited;
    },
    kill: async () => {
      if (proc.child.pid !== undefined && !proc.hasExited()) process.kill(proc.child.pid, 'SIGKILL');
      await proc.exited;
    },
  };
}
