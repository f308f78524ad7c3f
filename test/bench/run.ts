// `npm run bench`: every benchmark in turn. Each prints its own figures; none asserts anything about time.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  ['schedule.bench.ts'],
  ['publish.bench.ts'],
  ['beat.bench.ts', '--svg', 'docs/benchmark-beat.svg'],
  ['memory.bench.ts'],
  ['controller.bench.ts'],
  ['cluster.bench.ts'],
  ['failing-task.bench.ts'],
  ['redis-topologies.bench.ts'],
];

let failed = 0;
for (const [file, ...args] of BENCHES) {
  process.stdout.write(`\n## ${file}\n\n`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(file!, import.meta.url)), ...args], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
