// The Kubernetes client library is loaded only where a cluster is used: standalone mode (a whole run with a
// real Redis), `validate`, `next` and `import` never resolve a module of @kubernetes/client-node, recorded in
// the child process by the start-up tests' resolve hook; a run in cluster mode does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitUntil } from '../../support/ports.ts';
import { startProcess } from '../../support/process.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('../../unit/cli/record-modules.ts', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples', import.meta.url));
const CLIENT = '/node_modules/@kubernetes/client-node/';
const dir = mkdtempSync(join(tmpdir(), 'celerybeat-client-loading-'));

let redis: RedisServer;
let runs = 0;

before(async () => {
  redis = await startRedisServer();
});

after(async () => {
  await redis?.stop();
});

const recordTo = () => join(dir, `modules-${++runs}.txt`);
const recorded = (target: string) => readFileSync(target, 'utf8').split('\n');
// No kubeconfig anywhere: a stray one must not change what is loaded.
const ENV = { ...process.env, KUBECONFIG: '', HOME: dir };

function command(args: string[]): { code: number | null; stderr: string; urls: string[] } {
  const target = recordTo();
  const r = spawnSync(process.execPath, ['--import', RECORDER, MAIN, ...args], {
    encoding: 'utf8',
    // A process that does not end fails the test instead of holding the run.
    timeout: 60_000,
    env: { ...ENV, RECORD_MODULES_TO: target },
  });
  return { code: r.status, stderr: r.stderr, urls: recorded(target) };
}

test('standalone mode runs without loading the Kubernetes client', async () => {
  const target = recordTo();
  const operator = startProcess(
    'standalone-operator',
    process.execPath,
    [
      '--import',
      RECORDER,
      MAIN,
      'run',
      '--manifests',
      EXAMPLES,
      '--redis-url',
      redis.url,
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
    ],
    { env: { ...ENV, RECORD_MODULES_TO: target } },
  );
  try {
    await waitUntil(
      `the standalone operator serving\n${operator.output().slice(-2000)}`,
      () => {
        if (operator.hasExited()) throw new Error(`exited early:\n${operator.output().slice(-2000)}`);
        return operator.output().includes('serving metrics and health probes');
      },
      30_000,
    );
  } finally {
    await operator.stop();
  }
  const urls = recorded(target);
  assert.ok(
    urls.some((u) => u.includes('/node_modules/ioredis/')),
    'the recorder sees the packages a run loads',
  );
  assert.deepEqual(
    urls.filter((u) => u.includes(CLIENT)),
    [],
  );
});

test('validate, next and import do not load the Kubernetes client', () => {
  for (const args of [
    ['validate', EXAMPLES],
    ['next', join(EXAMPLES, 'cron.yaml'), '--count', '2'],
    ['import', '--from', 'celerybeat-redis', '--redis-url', redis.url],
  ]) {
    const r = command(args);
    assert.ok(r.code === 0 || (args[0] === 'import' && r.code === 1), `${args[0]}: ${r.stderr}`);
    assert.ok(
      r.urls.some((u) => u.endsWith('/src/cli/commands.ts')),
      args[0],
    );
    assert.deepEqual(
      r.urls.filter((u) => u.includes(CLIENT)),
      [],
      args[0],
    );
  }
});

test('cluster mode does load it (the check above can fail)', async () => {
  const missing = join(dir, 'missing-kubeconfig');
  const r = command(['run', '--kubeconfig', missing, '--redis-url', redis.url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /kubeconfig .*missing-kubeconfig \(from --kubeconfig\) does not exist/);
  assert.ok(r.urls.some((u) => u.includes(CLIENT)));
});
