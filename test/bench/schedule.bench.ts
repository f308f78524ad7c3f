// Next-run computations per second of the schedule engine (node test/bench/schedule.bench.ts).
// Prints figures only; nothing here asserts on time.
import type { ScheduleDefinition } from '../../src/api/types.ts';
import { planSlots } from '../../src/schedule/catch-up.ts';
import { compileSchedule } from '../../src/schedule/compile.ts';
import { cronDefinition } from '../../src/schedule/cron-job-parse.ts';
import type { Schedule } from '../../src/schedule/schedule.ts';

const START = Date.UTC(2026, 10, 24, 10, 0, 0);

function crontab(expr: string): ScheduleDefinition {
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
walk('crontab * * * * * UTC: next()', compileSchedule(crontab('* * * * *'), 'UTC'), 500_000);
walk(
  'crontab */5 * * * * Europe/Berlin: next()',
  compileSchedule(crontab('*/5 * * * *'), 'Europe/Berlin'),
  500_000,
);
walk(
  'crontab 30 7 * * mon-fri America/New_York: next()',
  compileSchedule(crontab('30 7 * * mon-fri'), 'America/New_York'),
  200_000,
);
walk(
  'crontab 30 2 * * * Australia/Lord_Howe: next()',
  compileSchedule(crontab('30 2 * * *'), 'Australia/Lord_Howe'),
  200_000,
);
walk(
  'crontab 0 0 13 * fri (Friday 13th) UTC: next()',
  compileSchedule(crontab('0 0 13 * fri'), 'UTC'),
  20_000,
);

const berlin = compileSchedule(crontab('*/5 * * * *'), 'Europe/Berlin');
measure('crontab */5 Berlin: next() from random instants', 200_000, (i) => {
  berlin.next(START + ((i * 7_919_993) % 31_536_000_000));
});
const minutely = compileSchedule(crontab('* * * * *'), 'Europe/Berlin');
measure('crontab * * * * * Berlin: planSlots after 30 days down', 2_000, (i) => {
  planSlots(minutely, START + i * 60_000, START + i * 60_000 + 30 * 86_400_000, 300);
});
measure('crontab * * * * * Berlin: compile', 50_000, () => {
  compileSchedule(crontab('* * * * *'), 'Europe/Berlin');
});

// cron: strings (a CronJob's schedule, slots from cron-parser). The beat asks the same next slots of every task
// with the same string and zone: those answers are cached per string, so a walk after the first is what a beat
// with many such tasks sees; the first computation of a slot is measured on strings never asked before.
walk('cron * * * * * UTC: next()', compileSchedule(cronDefinition('* * * * *'), 'UTC'), 500_000);
walk(
  'cron */5 * * * * Europe/Berlin: next()',
  compileSchedule(cronDefinition('*/5 * * * *'), 'Europe/Berlin'),
  500_000,
);
walk(
  'cron 30 7 * * mon-fri America/New_York: next()',
  compileSchedule(cronDefinition('30 7 * * mon-fri'), 'America/New_York'),
  200_000,
);
walk(
  'cron 30 2 * * * Australia/Lord_Howe: next()',
  compileSchedule(cronDefinition('30 2 * * *'), 'Australia/Lord_Howe'),
  200_000,
);
walk(
  'cron 0 0 13 * fri (13th or Friday) UTC: next()',
  compileSchedule(cronDefinition('0 0 13 * fri'), 'UTC'),
  200_000,
);
const cronBerlin = compileSchedule(cronDefinition('*/5 * * * *'), 'Europe/Berlin');
measure('cron */5 Berlin: next() from random instants', 100_000, (i) => {
  cronBerlin.next(START + ((i * 7_919_993) % 31_536_000_000));
});
let fresh = 0;
measure('cron, a string never seen: compile + first next() Berlin', 5_000, () => {
  const n = fresh++;
  const expression = `${n % 60} ${Math.floor(n / 60) % 24} ${1 + (Math.floor(n / 1440) % 28)} * *`;
  compileSchedule(cronDefinition(expression), 'Europe/Berlin').next(START);
});
const cronMinutely = compileSchedule(cronDefinition('* * * * *'), 'Europe/Berlin');
measure('cron * * * * * Berlin: planSlots after 30 days down', 2_000, (i) => {
  planSlots(cronMinutely, START + i * 60_000, START + i * 60_000 + 30 * 86_400_000, 300);
});
