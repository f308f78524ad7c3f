// HTTPS_PROXY and NO_PROXY as client-go reads them for an API server address.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proxyFromEnvironment } from '../../../src/kube/proxy-from-environment.ts';

const PROXY = 'http://proxy.corp:3128';

test('HTTPS_PROXY for an https server, HTTP_PROXY for an http one, nothing without them', () => {
  assert.equal(proxyFromEnvironment('https://api.example:6443', { HTTPS_PROXY: PROXY }), PROXY);
  assert.equal(proxyFromEnvironment('https://api.example:6443', { https_proxy: PROXY }), PROXY);
  assert.equal(proxyFromEnvironment('https://api.example:6443', { HTTP_PROXY: PROXY }), undefined);
  assert.equal(proxyFromEnvironment('http://api.example:8080', { HTTP_PROXY: PROXY }), PROXY);
  assert.equal(proxyFromEnvironment('https://api.example:6443', {}), undefined);
});

test('NO_PROXY: hosts, domains, ports, networks and *; loopback is never proxied', () => {
  const via = (server: string, noProxy: string) =>
    proxyFromEnvironment(server, { HTTPS_PROXY: PROXY, NO_PROXY: noProxy });
  assert.equal(via('https://api.example:6443', 'api.example'), undefined);
  assert.equal(via('https://api.corp.example:6443', '.corp.example'), undefined);
  assert.equal(via('https://api.corp.example:6443', 'corp.example'), undefined);
  assert.equal(via('https://api.corp.example:6443', 'other.example'), PROXY);
  assert.equal(via('https://api.example:6443', 'api.example:6443'), undefined);
  assert.equal(via('https://api.example:6443', 'api.example:443'), PROXY);
  assert.equal(via('https://10.96.0.1:443', '10.0.0.0/8'), undefined);
  assert.equal(via('https://10.96.0.1:443', '192.168.0.0/16'), PROXY);
  assert.equal(via('https://[fd00::1]:443', 'fd00::/8'), undefined);
  assert.equal(via('https://api.example:6443', 'a.example, *'), undefined);
  assert.equal(via('https://127.0.0.1:6443', ''), undefined);
  assert.equal(via('https://localhost:6443', ''), undefined);
});
