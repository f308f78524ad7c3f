// Runs argocd/health.lua in a real Lua 5.1 interpreter, the language Argo CD's health scripts are written
// in, against every sample in argocd/testdata/ and the status and message listed for it in health_test.yaml.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..', '..');
const argocd = join(root, 'argocd');
const lua = process.env.LUA ?? 'lua5.1';

interface HealthCase {
  inputPath: string;
  healthStatus: { status: string; message: string };
}

function runHealthCheck(resource: unknown): { status: string; message: string } {
  const result = spawnSync(lua, [join(argocd, 'test-harness', 'run.lua'), join(argocd, 'health.lua')], {
    input: JSON.stringify(resource),
    encoding: 'utf8',
  });
  if (result.error) throw new Error(`cannot run ${lua} (install Debian's lua5.1): ${result.error.message}`);
  assert.equal(result.status, 0, `health.lua failed: ${result.stderr}`);
  const [status = '', message = ''] = result.stdout.split('\n');
  return { status, message };
}

const { tests } = parse(readFileSync(join(argocd, 'testdata', 'health_test.yaml'), 'utf8')) as {
  tests: HealthCase[];
};

describe('Argo CD health check for PeriodicTask', () => {
  for (const { inputPath, healthStatus } of tests) {
    test(`${inputPath} is ${healthStatus.status}`, () => {
      const resource: unknown = parse(readFileSync(join(argocd, 'testdata', inputPath), 'utf8'));
      assert.deepEqual(runHealthCheck(resource), healthStatus);
    });
  }

  test('every state is covered by a sample', () => {
    const statuses = new Set(tests.map((t) => t.healthStatus.status));
    assert.deepEqual([...statuses].sort(), ['Degraded', 'Healthy', 'Progressing', 'Suspended']);
  });

  test('the harness decodes JSON escapes the way Argo CD hands strings to the script', () => {
    const resource = {
      metadata: { name: 'x', generation: 1 },
      status: {
        observedGeneration: 1,
        conditions: [
          { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'spec.args: "é\\😀"\t[1, null]' },
        ],
      },
    };
    assert.deepEqual(runHealthCheck(resource), {
      status: 'Degraded',
      message: 'InvalidSpec: spec.args: "é\\😀"\t[1, null]',
    });
  });

  test('the script uses no library Argo CD leaves closed', () => {
    const source = readFileSync(join(argocd, 'health.lua'), 'utf8');
    assert.doesNotMatch(source, /\b(string|io|os|debug|require)\s*[.(]/);
  });
});
