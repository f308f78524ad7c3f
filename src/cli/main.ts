#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `celerybeat-operator` command. V8 fixes the young generation's maximum when the heap is
// created, so it is given on the first line: V8's own kept much garbage resident with many schedules, and this
// one still keeps up with the highest dispatch rates (see observe/heap-tuning.ts, docs/performance.md).
// It checks the Node.js version before anything else is loaded, so it has no static imports and uses no recent
// syntax or API: on an older Node.js it must still run far enough to say what is wrong. Everything else,
// command by command, is imported on demand.
const REQUIRED_MAJOR = 24;

const major = Number.parseInt(process.versions.node, 10);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `celerybeat-operator needs Node.js ${REQUIRED_MAJOR} or later (this is ${process.version})\n`,
  );
  process.exitCode = 1;
} else {
  // Node.js keeps the compiled code of the modules on disk, which roughly halves the start-up of short
  // commands such as `validate`; where the cache cannot be written it silently stays off.
  (await import('node:module')).enableCompileCache();
  // Before any module is loaded: loading alone would grow the young generation to its maximum, and those
  // pages stay resident (see heap-tuning.ts).
  (await import('../observe/heap-tuning.ts')).tuneHeapForSize();
  const { runCli } = await import('./commands.ts');
  process.exitCode = await runCli(process.argv.slice(2));
}
