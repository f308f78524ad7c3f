// A `run` that cannot work ends at once with status 1 and one line saying why, instead of staying up with
// /healthz answering ok: a missing manifest directory, an unreachable broker, a missing kubeconfig.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
let redis: RedisServer;

before(async () => {
  redis = await startRedisServer();
});
after(() => redis.stop());

/** Runs `run` with the flags; resolves with its exit status and stderr, or fails if it is still up after 30 s. */
function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'run',
      '--redis-url',
      redis.url,
      '--metrics-addr',
      '127.0.0.1:0',
      '--health-addr',
      '127.0.0.1:0',
      ...args,
    ],
    { env: { ...process.env, KUBECONFIG: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

test('a manifest directory that does not exist', async () => {
  const { status, stderr } = await run(['--manifests', '/nonexistent-manifests']);
  assert.equal(status, 1);
  assert.match(
    stderr,
    /^celerybeat-operator run: cannot read manifest directory \/nonexistent-manifests: ENOENT/m,
  );
});

test('a broker that refuses connections, named without its password', async () => {
  const { status, stderr } = await run([
    '--manifests',
    '.',
    '--broker-url',
    'redis://user:secret@127.0.0.1:1/0',
  ]);
  assert.equal(status, 1);
  assert.match(
    stderr,
    /broker redis:\/\/user:\*\*\*@127\.0\.0\.1:1\/0 is not reachable: connect ECONNREFUSED/,
  );
  assert.doesNotMatch(stderr, /secret/);
});

test('a kubeconfig that does not exist', async () => {
  const { status, stderr } = await run(['--kubeconfig', '/nonexistent-kubeconfig']);
  assert.equal(status, 1);
  assert.match(stderr, /kubeconfig \/nonexistent-kubeconfig \(from --kubeconfig\) does not exist/);
});

test('a start failure ends every time: the exit cannot hang on a background compile', async () => {
  // Node's exit could wait forever for a compile job that waits for a collection (nodejs/node#54918); under
  // the heap's size-favouring limits that hung about one start failure in three.
  for (let i = 0; i < 10; i++) {
    const { status } = await run(['--kubeconfig', '/nonexistent-kubeconfig']);
    assert.equal(status, 1, `run ${i + 1}`);
  }
});
