// Next-run computations per second of the schedule engine (node test/bench/schedule.bench.ts).
// Prints figures only; nothing here asserts on time.
import type { ScheduleDefinition } from '../../src/api/types.ts';
import { planSlots } from '../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import type { Schedule } from '../../src/schedule/schedule.ts';

const START = Date.UTC(2026, 10, 24, 10, 0, 0);

function cron(expr: string): ScheduleDefinition {
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = expr.split(' ') as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { kind: 'crontab', minute, hour, dayOfMonth, monthOfYear, dayOfWeek };
}

function measure(label: string, iterations: number, step: (i: number) => void): void {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) step(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) step(i);
  const seconds = (performance.now() - t0) / 1000;
  const perSecond = Math.round(iterations / seconds).toLocaleString('en-US');
  process.stdout.write(`${label.padEnd(58)} ${perSecond.padStart(12)} /s\n`);
}

/** Walks the schedule slot after slot, as the beat does after each dispatch, restarting every 1000 slots. */
function walk(label: string, schedule: Schedule, iterations: number): void {
  let t = START;
  measure(label, iterations, (i) => {
    t = (i % 1000 === 0 ? null : schedule.next(t)) ?? START;
  });
}

walk(
  'interval every 30 s: next()',
  compileSchedule({ kind: 'interval', every: 30, period: 'seconds' }, 'UTC'),
  2_000_000,
);
walk(
  'interval every 1500 us: next()',
  compileSchedule({ kind: 'interval', every: 1500, period: 'microseconds' }, 'UTC'),
  2_000_000,
);
walk('crontab * * * * * UTC: next()', compileSchedule(cron('* * * * *'), 'UTC'), 500_000);
walk(
  'crontab */5 * * * * Europe/Berlin: next()',
  compileSchedule(cron('*/5 * * * *'), 'Europe/Berlin'),
  500_000,
);
walk(
  'crontab 30 7 * * mon-fri America/New_York: next()',
  compileSchedule(cron('30 7 * * mon-fri'), 'America/New_York'),
  200_000,
);
walk(
  'crontab 30 2 * * * Australia/Lord_Howe: next()',
  compileSchedule(cron('30 2 * * *'), 'Australia/Lord_Howe'),
  200_000,
);
walk('crontab 0 0 13 * fri (Friday 13th) UTC: next()', compileSchedule(cron('0 0 13 * fri'), 'UTC'), 20_000);

const berlin = compileSchedule(cron('*/5 * * * *'), 'Europe/Berlin');
measure('crontab */5 Berlin: next() from random instants', 200_000, (i) => {
  berlin.next(START + ((i * 7_919_993) % 31_536_000_000));
});
const minutely = compileSchedule(cron('* * * * *'), 'Europe/Berlin');
measure('crontab * * * * * Berlin: planSlots after 30 days down', 2_000, (i) => {
  planSlots(minutely, START + i * 60_000, START + i * 60_000 + 30 * 86_400_000, 300);
});
measure('crontab * * * * * Berlin: compile', 50_000, () => {
  compileSchedule(cron('* * * * *'), 'Europe/Berlin');
});
