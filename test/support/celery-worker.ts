// A real Celery 5.2.6 worker (Debian python3-celery, run with /usr/bin/python3) on a broker URL and queues,
// running the tasks in test/support/celery/tasks.py. Each task records what it ran (headers, delivery info,
// times) as JSON lines; executions() reads them back.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';

const TASKS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'celery');
const PYTHON = process.env.CELERY_PYTHON ?? '/usr/bin/python3';

export interface QueueSpec {
  name: string;
  /** Default: an exchange named like the queue (what Celery declares for a missing queue). */
  exchange?: string;
  exchangeType?: 'direct' | 'topic' | 'fanout';
  /** Default: the queue name. */
  routingKey?: string;
  /** RabbitMQ `x-max-priority` of the queue. */
  maxPriority?: number;
}

export interface CeleryWorkerOptions {
  brokerUrl: string;
  queues: readonly (string | QueueSpec)[];
  /** 1 (default) runs the solo pool; more runs the prefork pool, which also enforces time limits. */
  concurrency?: number;
  /** Force the prefork pool even with concurrency 1 (time limits need it). */
  pool?: 'solo' | 'prefork';
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export type Outcome = 'running' | 'succeeded' | 'failed' | 'soft-time-limit';

/** The raw message as the worker's consumer got it from the broker. */
export interface ReceivedMessage {
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  delivery_info: Record<string, unknown>;
  content_type: string | null;
  content_encoding: string | null;
}

export interface Execution {
  task: string;
  id: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** Every public field of the task request: the message headers (custom ones too, e.g. periodic_task_name),
   * plus reply_to, correlation_id, delivery_info, hostname, eta, expires, timelimit, … */
  request: Record<string, unknown>;
  deliveryInfo: Record<string, unknown>;
  priority: number | null;
  eta: string | null;
  expires: string | null;
  timeLimit: [number | null, number | null];
  /** The message headers and properties as received, if the worker's task_received signal saw it. */
  message: ReceivedMessage | null;
  hostname: string;
  pid: number;
  /** Epoch ms: when the worker received the message (null if not seen), started and finished the task. */
  receivedAt: number | null;
  startedAt: number;
  finishedAt: number | null;
  /** 'running' also covers a task killed by a hard time limit (it never finishes). */
  outcome: Outcome;
  result: unknown;
  error: string | null;
}

/** Messages the worker got but did not run. */
export interface NonExecution {
  /** `refused`: the namespace guard (CELERY_TEST_ALLOWED_NAMESPACES) rejected the run before its body. */
  event: 'revoked' | 'rejected' | 'unknown' | 'refused';
  at: number;
  id: string | null;
  task: string | null;
  error?: string;
  expired?: boolean;
  terminated?: boolean;
  message?: ReceivedMessage | null;
}

export interface CeleryWorker {
  readonly hostname: string;
  executions(): Promise<Execution[]>;
  /** Revoked (e.g. expired), rejected and unknown-task messages. */
  nonExecutions(): Promise<NonExecution[]>;
  /** Waits until `n` executions exist, or `until(executions)` is true; returns the executions. */
  waitForExecutions(
    until: number | ((executions: Execution[]) => boolean),
    timeoutMs?: number,
  ): Promise<Execution[]>;
  log(): string;
  /** SIGKILL of the worker and its pool, mid-task or not; its records stay readable until `stop`. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

type RecordLine = Record<string, unknown> & { event: string; at: number };

async function readRecords(file: string): Promise<RecordLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  // A read can meet a line still being written: only lines ended by their newline are whole.
  const lines = text.split('\n');
  lines.pop();
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as RecordLine);
}

function nullableNumber(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function nullableString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function toExecutions(records: RecordLine[]): Execution[] {
  const received = new Map<string, RecordLine>();
  const finished = new Map<string, RecordLine>();
  for (const r of records) {
    if (r.event === 'received' && typeof r.id === 'string' && !received.has(r.id)) received.set(r.id, r);
    if (r.event === 'finished' && typeof r.run === 'string') finished.set(r.run, r);
  }
  return records
    .filter((r) => r.event === 'started')
    .map((r) => {
      const request = (r.request ?? {}) as Record<string, unknown>;
      const deliveryInfo = (request.delivery_info ?? {}) as Record<string, unknown>;
      const rec = received.get(String(r.id));
      const fin = finished.get(String(r.run));
      const timelimit = Array.isArray(request.timelimit) ? request.timelimit : [null, null];
      return {
        task: String(r.task),
        id: String(r.id),
        args: (r.args ?? []) as unknown[],
        kwargs: (r.kwargs ?? {}) as Record<string, unknown>,
        request,
        deliveryInfo,
        priority: nullableNumber(deliveryInfo.priority),
        eta: nullableString(request.eta),
        expires: nullableString(request.expires),
        timeLimit: [nullableNumber(timelimit[0]), nullableNumber(timelimit[1])],
        message: (rec?.message ?? null) as ReceivedMessage | null,
        hostname: String(r.hostname),
        pid: Number(r.pid),
        receivedAt: rec ? rec.at : null,
        startedAt: r.at,
        finishedAt: fin ? fin.at : null,
        outcome: fin ? (fin.outcome as Outcome) : 'running',
        result: fin?.result ?? null,
        error: fin ? nullableString(fin.error) : null,
      };
    });
}

function queueSpec(q: string | QueueSpec): Record<string, unknown> {
  const spec = typeof q === 'string' ? { name: q } : q;
  return {
    name: spec.name,
    exchange: spec.exchange,
    exchange_type: spec.exchangeType,
    routing_key: spec.routingKey,
    max_priority: spec.maxPriority,
  };
}

export async function startCeleryWorker(options: CeleryWorkerOptions): Promise<CeleryWorker> {
  if (options.queues.length === 0) throw new Error('startCeleryWorker: at least one queue is needed');
  const dir = await mkdtemp(join(tmpdir(), 'celerybeat-worker-'));
  const recordFile = join(dir, 'executions.jsonl');
  const concurrency = options.concurrency ?? 1;
  const pool = options.pool ?? (concurrency > 1 ? 'prefork' : 'solo');
  const hostname = `test-${process.pid}-${randomBytes(3).toString('hex')}@localhost`;
  const queueNames = options.queues.map((q) => (typeof q === 'string' ? q : q.name));
  const proc: ManagedProcess = startProcess(
    'celery worker',
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      'tasks',
      'worker',
      `--pool=${pool}`,
      `--concurrency=${concurrency}`,
      '-Q',
      queueNames.join(','),
      '-n',
      hostname,
      '--loglevel=INFO',
      '--without-gossip',
      '--without-mingle',
      '--without-heartbeat',
    ],
    {
      cwd: dir,
      env: {
        // Only what the worker needs: the pyenv python on PATH must not leak in through PYTHON* variables.
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: dir,
        LANG: 'C.UTF-8',
        PYTHONPATH: TASKS_DIR,
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
        CELERY_TEST_BROKER_URL: options.brokerUrl,
        CELERY_TEST_RECORD_FILE: recordFile,
        CELERY_TEST_QUEUES: JSON.stringify(options.queues.map(queueSpec)),
        ...options.env,
      },
    },
  );
  try {
    await waitUntil(
      `celery worker ${hostname} to be ready`,
      () => {
        if (proc.hasExited())
          throw new Error(`celery worker exited before it was ready:\n${tail(proc.output())}`);
        return proc.output().includes(' ready.');
      },
      options.readyTimeoutMs ?? 60_000,
      100,
    );
  } catch (err) {
    await proc.stop(2000);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${tail(proc.output())}`);
  }

  const executions = async (): Promise<Execution[]> => toExecutions(await readRecords(recordFile));
  return {
    hostname,
    executions,
    async nonExecutions() {
      const records = await readRecords(recordFile);
      return records
        .filter((r) => ['revoked', 'rejected', 'unknown', 'refused'].includes(String(r.event)))
        .map((r) => r as unknown as NonExecution);
    },
    async waitForExecutions(until, timeoutMs = 30_000) {
      let latest: Execution[] = [];
      const done = typeof until === 'number' ? (e: Execution[]) => e.length >= until : until;
      try {
        await waitUntil(
          'celery executions',
          async () => {
            if (proc.hasExited()) throw new Error('celery worker exited');
            latest = await executions();
            return done(latest);
          },
          timeoutMs,
          100,
        );
      } catch (err) {
        throw new Error(
          `${(err as Error).message}; ${latest.length} executions so far: ${JSON.stringify(latest.map((e) => e.task))}\nworker log:\n${tail(proc.output())}`,
        );
      }
      return latest;
    },
    log: () => proc.output(),
    async kill() {
      if (proc.child.pid !== undefined && !proc.hasExited()) process.kill(-proc.child.pid, 'SIGKILL');
      await proc.exited;
    },
    async stop() {
      // Celery's warm shutdown waits for running tasks; a test wants it gone.
      await proc.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
