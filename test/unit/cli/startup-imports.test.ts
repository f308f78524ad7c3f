// Start-up of the short commands: which modules `validate`, `next` and `--help` load, recorded in a child
// process by a resolve hook. The heavy packages that only `run` needs must stay unloaded.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('./record-modules.ts', import.meta.url));
const FAKE_NODE_20 = fileURLToPath(new URL('./fake-node-20.ts', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'celerybeat-startup-'));

const HEAVY_PACKAGES = ['ioredis', 'amqplib', 'prom-client', 'pino', '@kubernetes/client-node'];

let runs = 0;
function loadedModules(
  args: string[],
  preload: string[] = [],
): { code: number | null; stderr: string; packages: Set<string>; urls: string[] } {
  const target = join(dir, `modules-${++runs}.txt`);
  const r = spawnSync(
    process.execPath,
    [...preload.flatMap((p) => ['--import', p]), '--import', RECORDER, MAIN, ...args],
    { encoding: 'utf8', env: { ...process.env, RECORD_MODULES_TO: target } },
  );
  const urls = readFileSync(target, 'utf8').split('\n');
  // The package of each module under node_modules: "@scope/name" or "name".
  const packages = new Set(
    urls.flatMap((u) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      return m ? [m[1]!] : [];
    }),
  );
  return { code: r.status, stderr: r.stderr, packages, urls };
}

for (const args of [
  ['validate', EXAMPLES],
  ['next', join(EXAMPLES, 'cron.yaml'), '--count', '2'],
]) {
  test(`${args[0]} loads yaml but none of ${HEAVY_PACKAGES.join(', ')}`, () => {
    const r = loadedModules(args);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.packages.has('yaml'), `yaml not recorded: ${[...r.packages].join(', ')}`);
    for (const name of HEAVY_PACKAGES) assert.ok(!r.packages.has(name), `${args[0]} loads ${name}`);
  });
}

test('astronomy-engine is loaded by the first solar schedule only', () => {
  const crontab = loadedModules(['next', join(EXAMPLES, 'crontab.yaml'), '--count', '2']);
  assert.equal(crontab.code, 0, crontab.stderr);
  assert.ok(!crontab.packages.has('astronomy-engine'), 'next of a crontab loads astronomy-engine');
  const validate = loadedModules(['validate', join(EXAMPLES, 'solar.yaml')]);
  assert.equal(validate.code, 0, validate.stderr);
  assert.ok(!validate.packages.has('astronomy-engine'), 'validate loads astronomy-engine');
  const solar = loadedModules(['next', join(EXAMPLES, 'solar.yaml'), '--count', '2']);
  assert.equal(solar.code, 0, solar.stderr);
  assert.ok(
    solar.packages.has('astronomy-engine'),
    `next of a solar task: ${[...solar.packages].join(', ')}`,
  );
});

test('--help loads no package at all', () => {
  const r = loadedModules(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...r.packages], []);
});

test('run --help and a bad flag of run answer before the operator packages are loaded', () => {
  const help = loadedModules(['run', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const bad = loadedModules(['run', '--foo']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --foo/);
  for (const r of [help, bad]) {
    assert.deepEqual(
      HEAVY_PACKAGES.filter((name) => r.packages.has(name)),
      [],
    );
    // The recorder does see packages: the run-config module's own dependencies are there.
    assert.ok(r.urls.some((u) => u.endsWith('/src/cli/run-config.ts')));
  }
});

test('on an older Node.js the entry point says so, exits 1 and loads nothing else', () => {
  const r = loadedModules(['validate', EXAMPLES], [FAKE_NODE_20]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'celerybeat-operator needs Node.js 24 or later (this is v20.20.2)\n');
  const own = r.urls.filter((u) => u.includes('/src/'));
  assert.deepEqual(own, [new URL(`file://${MAIN}`).href]);
});

test('the entry point has no static import, so an older Node.js gets as far as the version check', () => {
  const source = readFileSync(MAIN, 'utf8');
  assert.doesNotMatch(source, /^\s*(import|export)\s/m);
});
