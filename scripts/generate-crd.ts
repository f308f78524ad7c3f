// Writes the CRD from the schema in src/api (npm run generate:crd): crds/ and the chart's copy, which must be
// the same bytes. With --check it only compares, and exits 1 when a committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { renderCrdYaml } from '../src/api/crd-yaml.ts';

const TARGETS = [
  'crds/celerybeat.io_periodictasks.yaml',
  'charts/celerybeat-operator/files/crds/celerybeat.io_periodictasks.yaml',
];
const wanted = renderCrdYaml();

for (const path of TARGETS) {
  const target = new URL(`../${path}`, import.meta.url);
  if (process.argv.includes('--check')) {
    const current = await readFile(target, 'utf8').catch(() => '');
    if (current !== wanted) {
      process.stderr.write(`${path} is out of date: run npm run generate:crd\n`);
      process.exitCode = 1;
    }
  } else {
    await writeFile(target, wanted);
    process.stdout.write(`wrote ${path}\n`);
  }
}
