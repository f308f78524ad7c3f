import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import {
  parseListenAddress,
  startHealthServer,
  startMetricsServer,
} from '../../../src/observe/http-server.ts';

test('parseListenAddress reads the forms operators use', () => {
  assert.deepEqual(parseListenAddress(':8080'), { host: undefined, port: 8080 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseListenAddress('localhost:81'), { host: 'localhost', port: 81 });
  for (const bad of ['8080', ':', 'host:99999', ':http', '1.2.3.4:80:90']) {
    assert.throws(() => parseListenAddress(bad), /invalid listen address/, bad);
  }
});

test('metrics server serves the registry on /metrics only', async () => {
  const registry = new Registry();
  new Counter({ name: 'celerybeat_test_total', help: 'test', registers: [registry] }).inc(3);
  const server = await startMetricsServer(parseListenAddress('127.0.0.1:0'), registry);
  try {
    assert.ok(server.port > 0);
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^celerybeat_test_total 3$/m);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test('health server reports failing checks by name', async () => {
  let synced: boolean | string = 'cache not synced';
  const server = await startHealthServer(parseListenAddress('127.0.0.1:0'), {
    healthz: { ping: () => true },
    readyz: { informer: () => synced, store: async () => true },
  });
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const healthz = await fetch(`${base}/healthz`);
    assert.equal(healthz.status, 200);
    assert.equal(await healthz.text(), 'ok\n');
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 500);
    assert.match(await notReady.text(), /\[-\]informer failed: cache not synced/);
    synced = true;
    const verbose = await fetch(`${base}/readyz?verbose`);
    assert.equal(verbose.status, 200);
    assert.match(await verbose.text(), /\[\+\]informer ok\n\[\+\]store ok\nreadyz check passed/);
    assert.equal((await fetch(`${base}/readyz/store`)).status, 200);
    assert.equal((await fetch(`${base}/readyz/nope`)).status, 404);
  } finally {
    await server.close();
  }
});

test('a taken port fails with the address in the message', async () => {
  const first = await startHealthServer(parseListenAddress('127.0.0.1:0'), { healthz: {}, readyz: {} });
  try {
    await assert.rejects(
      startHealthServer(parseListenAddress(`127.0.0.1:${first.port}`), { healthz: {}, readyz: {} }),
      new RegExp(`health server cannot listen on 127.0.0.1:${first.port}`),
    );
  } finally {
    await first.close();
  }
});
