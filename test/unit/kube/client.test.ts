import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { loadKubeConfig, operatorNamespace } from '../../../src/kube/client.ts';

const kubeconfig = (server: string, namespace?: string) =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: u, user: {token: t}}]',
    `contexts: [{name: x, context: {cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ''}}}]`,
    'current-context: x',
    '',
  ].join('\n');

let dir: string;
const saved = { ...process.env };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const key of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'POD_NAMESPACE', 'HOME']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

test('the --kubeconfig path wins over KUBECONFIG', async () => {
  const flag = join(dir, 'flag');
  const env = join(dir, 'env');
  await writeFile(flag, kubeconfig('https://flag.example:6443', 'ops'));
  await writeFile(env, kubeconfig('https://env.example:6443'));
  process.env.KUBECONFIG = env;
  assert.equal(loadKubeConfig(flag).getCurrentCluster()?.server, 'https://flag.example:6443');
  assert.equal(loadKubeConfig().getCurrentCluster()?.server, 'https://env.example:6443');
  assert.equal(operatorNamespace(loadKubeConfig(flag)), 'ops');
  process.env.POD_NAMESPACE = 'from-downward-api';
  assert.equal(operatorNamespace(loadKubeConfig(flag)), 'from-downward-api');
});

test('clear errors for a missing file and for no configuration at all', () => {
  assert.throws(
    () => loadKubeConfig(join(dir, 'nope')),
    /kubeconfig .*nope \(from --kubeconfig\) does not exist/,
  );
  delete process.env.KUBECONFIG;
  delete process.env.KUBERNETES_SERVICE_HOST;
  process.env.HOME = dir;
  assert.throws(() => loadKubeConfig(), /no Kubernetes API server configured: pass --kubeconfig/);
});

test('a malformed kubeconfig names the file', async () => {
  const bad = join(dir, 'bad');
  await writeFile(bad, 'clusters: [');
  assert.throws(() => loadKubeConfig(bad), /cannot read kubeconfig .*bad \(from --kubeconfig\)/);
});
