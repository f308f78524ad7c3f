// Celery 5.2.6 beat as the benchmarks run it beside the operator: `celery beat` on the entries of
// celery_beat_bench.py (N interval entries, optionally part of them crontabs), waking at least once a second,
// with its schedule file where the caller says.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface CeleryBeatOptions {
  brokerUrl: string;
  schedules: number;
  queue: string;
  /** The schedule file (beat's `-s`): the last run of each entry, kept across a restart. */
  scheduleFile: string;
  /** Seconds between runs of each entry (default 1). */
  every?: number;
  /** The share of the entries that are crontabs due every minute (default 0). */
  cronShare?: number;
}

export function spawnCeleryBeat(options: CeleryBeatOptions): ChildProcess {
  return spawn(
    '/usr/bin/python3',
    [
      '-m',
      'celery',
      '-A',
      'celery_beat_bench',
      'beat',
      '--max-interval',
      '1',
      '-s',
      options.scheduleFile,
      '-l',
      'WARNING',
    ],
    {
      cwd: HERE,
      env: {
        ...process.env,
        PYTHONPATH: HERE,
        BENCH_BROKER: options.brokerUrl,
        BENCH_SCHEDULES: String(options.schedules),
        BENCH_QUEUE: options.queue,
        BENCH_EVERY: String(options.every ?? 1),
        BENCH_CRON_SHARE: String(options.cronShare ?? 0),
      },
      stdio: 'ignore',
    },
  );
}
