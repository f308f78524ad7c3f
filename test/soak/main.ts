// `npm run soak -- --minutes N [--seed S] [--tasks N] [--workers N] [--readme]`: a long soak with seeded random
// faults; prints the ledger's table per fault type and exits non-zero on any forbidden class, naming the seed to
// replay. `--readme` also writes the run's figures into the README's reliability section.
import { parseArgs } from 'node:util';
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
const startedAt = new Date();
const result = await runSoak({
  seed,
  faultMs: minutes * 60_000,
  tasks,
  workers,
  burstSize: Math.max(5, Math.round(tasks / 10)),
});
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
