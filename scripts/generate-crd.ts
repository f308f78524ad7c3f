// Writes the CRDs from the schemas in src/api (npm run generate:crd): crds/ and the chart's copies, which must
// be the same bytes. With --check it only compares, and exits 1 when a committed file is out of date.
import { readFile, writeFile } from 'node:fs/promises';
import { renderCrdYaml, renderPolicyCrdYaml } from '../src/api/crd-yaml.ts';

const TARGETS: [string, string][] = [];
for (const [file, text] of [
  ['celerybeat.io_periodictasks.yaml', renderCrdYaml()],
  ['celerybeat.io_periodictaskpolicies.yaml', renderPolicyCrdYaml()],
] as const) {
  TARGETS.push([`crds/${file}`, text], [`charts/celerybeat-operator/files/crds/${file}`, text]);
}

for (const [path, wanted] of TARGETS) {
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
