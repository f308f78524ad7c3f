#!/usr/bin/env node
// Entry point of `kubectl-celerybeat`, which kubectl runs for `kubectl celerybeat …`. Like the
// celerybeat-operator entry point it has no static imports, so on an older Node.js it still runs far enough to
// say what is wrong; the Node.js version is the one package.json's engines field asks for.
const REQUIRED_MAJOR = 24;

const major = Number.parseInt(process.versions.node, 10);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `kubectl-celerybeat needs Node.js ${REQUIRED_MAJOR} or later (this is ${process.version})\n`,
  );
  process.exitCode = 1;
} else {
  (await import('node:module')).enableCompileCache();
  const { runPlugin } = await import('./commands.ts');
  process.exitCode = await runPlugin(process.argv.slice(2));
}
