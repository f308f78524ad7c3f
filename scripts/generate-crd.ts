// Writes crds/celerybeat.io_periodictasks.yaml from the schema in src/api (npm run generate:crd).
// With --check it only compares, and exits 1 when the committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { renderCrdYaml } from '../src/api/crd-yaml.ts';

const target = new URL('../crds/celerybeat.io_periodictasks.yaml', import.meta.url);
const wanted = renderCrdYaml();

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== wanted) {
    process.stderr.write('crds/celerybeat.io_periodictasks.yaml is out of date: run npm run generate:crd\n');
    process.exitCode = 1;
  }
} else {
  await writeFile(target, wanted);
  process.stdout.write('wrote crds/celerybeat.io_periodictasks.yaml\n');
}
