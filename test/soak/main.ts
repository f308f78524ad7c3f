// `npm run soak -- --minutes N [--seed S] [--tasks N] [--workers N] [--readme] [--history FILE]`: a long soak
// with seeded random faults; prints the ledger's table per fault type and exits non-zero on any forbidden class,
// naming the seed to replay. `--readme` also writes the run's figures into the README's reliability section.
// `--history FILE` builds the ledger again from the history a run wrote (with that run's flags), without a run.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { History } from './history.ts';
import { buildLedger, type Ledger } from './ledger.ts';
import { soakSection, writeSoakSection } from './readme-results.ts';
import { forbiddenCount, formatLedger } from './report.ts';
import { runSoak } from './run-soak.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    tasks: { type: 'string', default: '300' },
    workers: { type: 'string', default: '4' },
    readme: { type: 'boolean', default: false },
    history: { type: 'string' },
  },
});
const number = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
};
const minutes = number('minutes', values.minutes);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed);
const tasks = number('tasks', values.tasks);
const workers = number('workers', values.workers);
let startedAt = new Date();
let result: { ledger: Ledger; faults: History['faults'] };
if (values.history === undefined) {
  result = await runSoak({
    seed,
    faultMs: minutes * 60_000,
    tasks,
    workers,
    burstSize: Math.max(5, Math.round(tasks / 10)),
  });
} else {
  const history = JSON.parse(readFileSync(values.history, 'utf8')) as History;
  if (history.seed !== seed)
    throw new Error(`${values.history} is the run of seed ${history.seed}, not ${seed}`);
  let first = Number.POSITIVE_INFINITY;
  for (const sample of history.samples) first = Math.min(first, sample.at);
  startedAt = new Date(first);
  result = { ledger: buildLedger(history), faults: history.faults };
}
const replay = `npm run soak -- --minutes ${minutes} --seed ${seed} --tasks ${tasks} --workers ${workers}`;
process.stdout.write(`${formatLedger(result.ledger, replay, result.faults)}\n`);
if (values.readme) {
  const section = soakSection({
    ledger: result.ledger,
    faults: result.faults,
    command: `${replay} --readme`,
    startedAt,
    minutes,
    tasks,
  });
  writeSoakSection('README.md', section);
  process.stdout.write('README.md: reliability section written\n');
}
process.exit(forbiddenCount(result.ledger) > 0 ? 1 : 0);
