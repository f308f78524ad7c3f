// The plugin's help and usage errors answer before the Kubernetes client is loaded (recorded in a child
// process by the start-up tests' resolve hook), and a connection failure is still one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PLUGIN = fileURLToPath(new URL('../../../src/plugin/main.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('../cli/record-modules.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'celerybeat-plugin-startup-'));

let runs = 0;
function run(args: string[]): { code: number | null; stdout: string; stderr: string; clientLoaded: boolean } {
  const target = join(dir, `modules-${++runs}.txt`);
  const r = spawnSync(process.execPath, ['--import', RECORDER, PLUGIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, RECORD_MODULES_TO: target, KUBECONFIG: '' },
  });
  const urls = readFileSync(target, 'utf8').split('\n');
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    clientLoaded: urls.some((u) => u.includes('/node_modules/@kubernetes/client-node/')),
  };
}

test('--help, a command --help and a bad flag do not load the Kubernetes client', () => {
  for (const args of [
    ['--help'],
    ['history', '--help'],
    ['pause', 'x', '--until', 'soon', '--reason', 'r'],
  ]) {
    const r = run(args);
    assert.equal(r.clientLoaded, false, args.join(' '));
    assert.equal(r.code, args.includes('--help') ? 0 : 2, r.stderr);
  }
});

test('a kubeconfig that does not exist: one line, exit 1', () => {
  const r = run(['history', 'x', '--kubeconfig', join(dir, 'missing')]);
  assert.equal(r.code, 1);
  assert.ok(r.clientLoaded, 'the recorder sees the client once a command runs');
  assert.equal(
    r.stderr,
    `kubectl celerybeat history: kubeconfig ${join(dir, 'missing')} (from --kubeconfig) does not exist\n`,
  );
});
