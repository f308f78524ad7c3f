// `npm run bench [-- --only beat,memory] [--sizes 10000]`: every benchmark in turn (or those named; `--sizes`
// replaces the sizes of those that take some). Each prints its own figures, and none asserts anything about time.
// The output is also written, with a description of the machine, to docs/benchmarks/<date>.md (with --only,
// <date>-<names>.md), so that published figures come from a run and not from an editor.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCHES: ReadonlyArray<readonly [string, ...string[]]> = [
  ['schedule.bench.ts'],
  ['publish.bench.ts'],
  ['beat.bench.ts', '--svg', 'docs/benchmark-beat.svg'],
  ['beat.bench.ts', '--sizes', '10000,100000', '--cron-share', '0.5', '--seconds', '20'],
  ['memory.bench.ts'],
  ['controller.bench.ts'],
  ['cluster.bench.ts'],
  ['restart.bench.ts'],
  ['failing-task.bench.ts'],
  ['redis-topologies.bench.ts'],
];

const { values } = parseArgs({ options: { only: { type: 'string' }, sizes: { type: 'string' } } });
const only = values.only?.split(',').map((name) => name.trim());
/** The benchmarks that take `--sizes`. */
const SIZED = new Set(['beat.bench.ts', 'memory.bench.ts', 'cluster.bench.ts', 'restart.bench.ts']);
const withSizes = ([file, ...args]: readonly [string, ...string[]]): readonly [string, ...string[]] => {
  if (values.sizes === undefined || !SIZED.has(file)) return [file, ...args];
  const at = args.indexOf('--sizes');
  return at < 0
    ? [file, ...args, '--sizes', values.sizes]
    : [file, ...args.slice(0, at), '--sizes', values.sizes, ...args.slice(at + 2)];
};
const selected = BENCHES.filter(([file]) => !only || only.includes(file.replace('.bench.ts', ''))).map(
  withSizes,
);
if (selected.length === 0) {
  process.stderr.write(
    `--only names no benchmark; they are: ${BENCHES.map(([f]) => f.replace('.bench.ts', '')).join(', ')}\n`,
  );
  process.exit(2);
}

const versionOf = (command: string, args: string[]): string => {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0]! : 'not found';
};

const started = new Date();
const cpu = cpus();
const machine = [
  `| CPU | ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores (${arch()}) |`,
  `| memory | ${Math.round(totalmem() / 2 ** 30)} GiB |`,
  `| kernel | Linux ${release()} |`,
  `| Node.js | ${process.version} |`,
  `| Redis | ${versionOf('redis-server', ['--version'])} |`,
  `| Celery | ${versionOf(process.env.CELERY_PYTHON ?? '/usr/bin/python3', ['-c', 'import celery; print(celery.__version__)'])} |`,
  // Figures from a busy machine are not comparable with those of an idle one.
  `| load average at start | ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')} |`,
];

/** Runs one benchmark, its output shown as it comes and kept for the results file. */
function runOne(file: string, args: readonly string[]): Promise<{ output: string; ok: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ output, ok: code === 0 }));
  });
}

const sections: string[] = [];
let failed = 0;
for (const [file, ...args] of selected) {
  const command = ['node', `test/bench/${file}`, ...args].join(' ');
  process.stdout.write(`\n## ${command}\n\n`);
  const { output, ok } = await runOne(file, args);
  if (!ok) failed += 1;
  sections.push(`## \`${command}\`${ok ? '' : ' (failed)'}\n\n\`\`\`\n${output.trimEnd()}\n\`\`\`\n`);
}

const day = started.toISOString().slice(0, 10);
const path = `docs/benchmarks/${day}${only ? `-${only.join('-')}` : ''}.md`;
mkdirSync('docs/benchmarks', { recursive: true });
writeFileSync(
  path,
  `# Benchmark results of ${day}\n\nWritten by \`npm run bench${only || values.sizes ? ' --' : ''}${only ? ` --only ${only.join(',')}` : ''}${values.sizes ? ` --sizes ${values.sizes}` : ''}\`, started ${started.toISOString()}.\n\n| machine | |\n| --- | --- |\n${machine.join('\n')}\n\n${sections.join('\n')}`,
);
process.stdout.write(`\nresults written to ${path}\n`);
process.exitCode = failed === 0 ? 0 : 1;
