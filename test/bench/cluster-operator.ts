// The compiled operator (dist/, as the image runs it) in cluster mode for the cluster benchmark: a kubeconfig,
// one watched namespace, its Lease there, the chart's log level. Its log is read line by line as it comes
// (at info level there is one `task sent` line per run, thousands a second at 100,000 tasks), keeping only
// the lines the benchmark waits for, the errors and a short tail for failure messages.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../support/ports.ts';
import { registerExitCleanup, withParentDeathSignal } from '../support/process.ts';
import { buildOperator, COMPILED_MAIN, commandFlags } from './compiled-operator.ts';

export interface ClusterOperatorOptions {
  kubeconfig: string;
  namespace: string;
  redisUrl: string;
  qps: number;
  burst: number;
  /** A name for messages (`leader`, `standby`, `cold`). */
  label: string;
}

export interface LogLine {
  /** When the benchmark read the line (the operator's own `time` is in `line.time`). */
  readAt: number;
  line: Record<string, unknown>;
}

/** The messages whose lines are kept (besides warnings and errors). */
const KEPT = [
  'became leader',
  'PeriodicTask cache synced',
  'PeriodicTask watch expired (410 Gone), relisting',
  'serving metrics and health probes',
];
const TAIL_LINES = 40;
/** Warnings and errors kept (the rest are only counted): a warning per task must not fill the benchmark. */
const MAX_PROBLEMS = 200;

export class ClusterOperator {
  readonly label: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly metricsPort: number;
  readonly #kept: LogLine[] = [];
  readonly #tail: string[] = [];
  #problems = 0;
  /** Every warning, error and kept message by its text: how often, and when last (ms since start). */
  readonly #byMessage = new Map<string, { count: number; lastAt: number }>();
  #partial = '';
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  private constructor(label: string, child: ChildProcess, metricsPort: number) {
    this.label = label;
    this.child = child;
    this.metricsPort = metricsPort;
    this.startedAt = Date.now();
    const unregister = registerExitCleanup(() => this.#signal('SIGKILL'));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        unregister();
        resolve();
      });
    });
    child.stdout?.on('data', (chunk: Buffer) => this.#read(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => this.#read(chunk.toString('utf8')));
  }

  static async start(options: ClusterOperatorOptions): Promise<ClusterOperator> {
    buildOperator();
    const metricsPort = await freePort();
    const healthPort = await freePort();
    const [file, argv] = withParentDeathSignal(process.execPath, [
      ...commandFlags(),
      COMPILED_MAIN,
      'run',
      '--kubeconfig',
      options.kubeconfig,
      '--namespace',
      options.namespace,
      '--redis-url',
      options.redisUrl,
      '--kube-api-qps',
      String(options.qps),
      '--kube-api-burst',
      String(options.burst),
      '--metrics-addr',
      `127.0.0.1:${metricsPort}`,
      '--health-addr',
      `127.0.0.1:${healthPort}`,
      '--log-level',
      'info',
    ]);
    const child = spawn(file, argv, {
      env: { ...process.env, POD_NAMESPACE: options.namespace },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`${options.label} operator: could not start`);
    return new ClusterOperator(options.label, child, metricsPort);
  }

  get pid(): number {
    return this.child.pid!;
  }

  hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** The kept lines with this message, oldest first. */
  lines(msg: string): LogLine[] {
    return this.#kept.filter((l) => l.line.msg === msg);
  }

  /** Warnings and errors logged so far (level >= 40): how many, and the first of them. */
  problems(): { count: number; first: LogLine[] } {
    const first = this.#kept.filter((l) => typeof l.line.level === 'number' && l.line.level >= 40);
    return { count: this.#problems, first };
  }

  /**
   * How it exited if it did, its warnings and errors (the last lines alone may be only runs sent), and the
   * last lines of its output: for failure messages.
   */
  describe(): string {
    const exit = this.#exit
      ? ` (exited: ${this.#exit.code ?? this.#exit.signal})`
      : ` (running, pid ${this.child.pid})`;
    const first = this.problems()
      .first.slice(0, 5)
      .map((l) => JSON.stringify(l.line).slice(0, 600));
    return [
      `${this.label} operator${exit}; messages: ${this.messageSummary() || 'none'}`,
      ...(first.length > 0 ? ['first warnings and errors:', ...first] : []),
      'last output:',
      ...this.#tail,
    ].join('\n');
  }

  /** Its warnings, errors and kept messages, each with how often it came and when last. */
  messageSummary(): string {
    return [...this.#byMessage]
      .map(([msg, { count, lastAt }]) => `${count}× "${msg}" (last at ${(lastAt / 1000).toFixed(0)} s)`)
      .join('; ');
  }

  /** Throws with its output if it has exited. */
  assertRunning(): void {
    if (this.hasExited()) throw new Error(`the ${this.describe()}`);
  }

  async metrics(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return response.text();
  }

  /** SIGKILL: no shutdown work, the Lease is left to expire. */
  async kill(): Promise<void> {
    this.#signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (flush, release the Lease), SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.hasExited()) return;
    this.#signal('SIGTERM');
    const timer = setTimeout(() => this.#signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.child.kill(signal);
  }

  #read(text: string): void {
    const readAt = Date.now();
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const raw of lines) {
      if (raw === '') continue;
      this.#tail.push(raw.length > 600 ? `${raw.slice(0, 600)}…` : raw);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      // Only the lines looked for are parsed: most are `task sent`.
      if (raw.includes('"msg":"task sent"')) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      const level = typeof line.level === 'number' ? line.level : 0;
      if (level >= 40) this.#problems += 1;
      if (level >= 40 || KEPT.includes(String(line.msg))) {
        const text = String(line.msg).slice(0, 200);
        const seen = this.#byMessage.get(text) ?? { count: 0, lastAt: 0 };
        seen.count += 1;
        seen.lastAt = readAt - this.startedAt;
        this.#byMessage.set(text, seen);
      }
      if (KEPT.includes(String(line.msg)) || (level >= 40 && this.#problems <= MAX_PROBLEMS))
        this.#kept.push({ readAt, line });
    }
  }
}

/** The value of one series in Prometheus text (`name{labels}` exactly as exposed), NaN when absent. */
export function metricValue(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return Number.NaN;
}
