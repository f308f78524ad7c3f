// rediss:// with a password: a private redis-server that only speaks TLS and requires AUTH, with a CA made for
// this run. The message must arrive, and no error may reveal the password.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { createBroker } from '../../../src/celery/broker.ts';
import { freePort, waitUntil } from '../../support/ports.ts';
import { type ManagedProcess, startProcess, tail } from '../../support/process.ts';
import { send } from './worker-scenarios.ts';

const PASSWORD = 'tls-s3cret-pw';
let dir: string;
let port: number;
let ca: Buffer;
let server: ManagedProcess;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'celerybeat-redis-tls-'));
  openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  ]);
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'ext',
  ]);
  ca = await readFile(join(dir, 'ca.crt'));
  port = await freePort();
  server = startProcess('redis-server (TLS)', 'redis-server', [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--tls-cert-file',
    join(dir, 'server.crt'),
    '--tls-key-file',
    join(dir, 'server.key'),
    '--tls-ca-cert-file',
    join(dir, 'ca.crt'),
    '--tls-auth-clients',
    'no',
    '--requirepass',
    PASSWORD,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
  await waitUntil(
    'TLS redis-server',
    () => {
      if (server.hasExited()) throw new Error(`redis-server exited:\n${tail(server.output())}`);
      return server.output().includes('Ready to accept connections');
    },
    15_000,
  );
});

after(async () => {
  await server?.stop(5000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('rediss:// with a password and a private CA delivers the message', async () => {
  const broker = await createBroker(`rediss://:${PASSWORD}@127.0.0.1:${port}/0`, {
    tls: { ca },
    connectTimeoutMs: 3000,
  });
  assert.equal(broker.url, `rediss://:***@127.0.0.1:${port}/0`);
  const sent = await send(broker, 'tasks.add', [2, 3], { x: 1 }, { queue: 'celery' });
  await broker.close();
  assert.deepEqual(sent.outcome, { ok: true });
  const reader = new Redis(`rediss://:${PASSWORD}@127.0.0.1:${port}/0`, { tls: { ca } });
  try {
    const [envelope] = await reader.lrange('celery', 0, -1);
    assert.equal(JSON.parse(envelope as string).headers.id, sent.id);
  } finally {
    reader.disconnect();
  }
});

test('a wrong password or an untrusted certificate fails clearly, and no error shows a password', async () => {
  for (const [url, tls] of [
    [`rediss://:wrong-${PASSWORD}@127.0.0.1:${port}/0`, { ca }],
    [`rediss://:${PASSWORD}@127.0.0.1:${port}/0`, {}],
  ] as const) {
    const broker = await createBroker(url, { tls, connectTimeoutMs: 1500 });
    const sent = await send(broker, 'tasks.add', [2, 3], {}, { queue: 'celery' });
    await broker.close();
    assert.ok(!sent.outcome.ok, `${broker.url} must fail`);
    assert.match(
      sent.outcome.error.message,
      /Redis broker rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 is not reachable/,
    );
    assert.doesNotMatch(sent.outcome.error.message, new RegExp(PASSWORD));
  }
});
