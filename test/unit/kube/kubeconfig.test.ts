import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ExecCredentialSource, readExecCredential } from '../../../src/kube/exec-credential.ts';
import { loadKubeConfig, NoKubeConfigError, operatorNamespace } from '../../../src/kube/kubeconfig.ts';

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
  assert.equal(loadKubeConfig(flag).server, 'https://flag.example:6443');
  assert.equal(loadKubeConfig().server, 'https://env.example:6443');
  assert.equal(operatorNamespace(loadKubeConfig(flag)), 'ops');
  assert.equal(operatorNamespace(loadKubeConfig()), 'default');
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
  assert.throws(
    () => loadKubeConfig(),
    (error: unknown) =>
      error instanceof NoKubeConfigError &&
      /no Kubernetes API server configured: pass --kubeconfig/.test(error.message),
  );
});

test('a malformed kubeconfig names the file', async () => {
  const bad = join(dir, 'bad');
  await writeFile(bad, 'clusters: [');
  assert.throws(() => loadKubeConfig(bad), /cannot read kubeconfig .*bad \(from --kubeconfig\)/);
});

test('KUBECONFIG files merge as kubectl merges them: the first to name an entry or a current-context wins', async () => {
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  await writeFile(
    first,
    [
      'clusters: [{name: c, cluster: {server: "https://first.example"}}]',
      'contexts: [{name: a, context: {cluster: c, user: shared}}]',
      '',
    ].join('\n'),
  );
  await writeFile(
    second,
    [
      'clusters: [{name: c, cluster: {server: "https://second.example"}}, {name: d, cluster: {server: "https://d.example"}}]',
      'users: [{name: shared, user: {token: from-second}}]',
      'contexts: [{name: b, context: {cluster: d, user: shared, namespace: team-b}}]',
      'current-context: a',
      '',
    ].join('\n'),
  );
  process.env.KUBECONFIG = [first, second].join(delimiter);
  const merged = loadKubeConfig();
  assert.equal(merged.context, 'a');
  assert.equal(merged.server, 'https://first.example');
  assert.deepEqual(merged.credentials, { kind: 'token', token: 'from-second' });
  const other = loadKubeConfig(undefined, 'b');
  assert.equal(other.server, 'https://d.example');
  assert.equal(other.namespace, 'team-b');
  assert.throws(() => loadKubeConfig(undefined, 'nope'), /context "nope" is not in the kubeconfig/);
});

test('certificate files are read relative to the kubeconfig that names them; data members are base64', async () => {
  const sub = join(dir, 'certs-config');
  await mkdir(join(sub, 'pki'), { recursive: true });
  await writeFile(join(sub, 'pki', 'ca.crt'), 'CA PEM');
  await writeFile(join(sub, 'pki', 'key.pem'), 'KEY PEM');
  await writeFile(join(sub, 'token'), 'file-token\n');
  const path = join(sub, 'config');
  await writeFile(
    path,
    [
      'clusters: [{name: c, cluster: {server: "https://api.example:6443/", certificate-authority: pki/ca.crt, tls-server-name: api.internal}}]',
      `users: [{name: u, user: {client-certificate-data: ${Buffer.from('CERT PEM').toString('base64')}, client-key: pki/key.pem}}, {name: f, user: {tokenFile: token}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: f}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const connection = loadKubeConfig(path);
  assert.equal(connection.server, 'https://api.example:6443', 'a trailing slash would double in every path');
  assert.equal(connection.tls.ca?.toString(), 'CA PEM');
  assert.equal(connection.tls.cert?.toString(), 'CERT PEM');
  assert.equal(connection.tls.key?.toString(), 'KEY PEM');
  assert.equal(connection.tls.serverName, 'api.internal');
  assert.equal(connection.tls.insecureSkipVerify, false);
  assert.deepEqual(loadKubeConfig(path, 'y').credentials, { kind: 'token-file', path: join(sub, 'token') });
});

test('what cannot work is refused by name, before any request', async () => {
  const write = async (name: string, user: string, cluster = '{server: "https://x.example"}') => {
    const path = join(dir, name);
    await writeFile(
      path,
      [
        `clusters: [{name: c, cluster: ${cluster}}]`,
        `users: [{name: u, user: ${user}}]`,
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    return path;
  };
  await assert.rejects(
    async () => loadKubeConfig(await write('ap', '{auth-provider: {name: gcp}}')),
    /kubeconfig user "u" uses auth-provider "gcp", which is not supported: use an exec credential plugin/,
  );
  await assert.rejects(
    async () =>
      loadKubeConfig(await write('half', `{client-key-data: ${Buffer.from('k').toString('base64')}}`)),
    /client certificate without its key, or a key without its certificate/,
  );
  await assert.rejects(
    async () =>
      loadKubeConfig(
        await write(
          'exec-version',
          '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}',
        ),
      ),
    /exec.apiVersion "client.authentication.k8s.io\/v1alpha1" is not client.authentication.k8s.io\/v1 or v1beta1/,
  );
  await assert.rejects(
    async () => loadKubeConfig(await write('no-server', '{token: t}', '{insecure-skip-tls-verify: true}')),
    /kubeconfig cluster "c" has no server/,
  );
  await assert.rejects(
    async () =>
      loadKubeConfig(
        await write('proxy', '{token: t}', '{server: "https://x.example", proxy-url: "http://p:3128"}'),
      ),
    /sets proxy-url, which is not supported/,
  );
  await assert.rejects(
    async () =>
      loadKubeConfig(
        await write(
          'bad-ca',
          '{token: t}',
          '{server: "https://x.example", certificate-authority: missing.crt}',
        ),
      ),
    /kubeconfig cluster "c": cannot read certificate-authority .*missing\.crt/,
  );
});

test('an exec plugin runs once per credential lifetime, with its env and KUBERNETES_EXEC_INFO', async () => {
  const script = join(dir, 'plugin.sh');
  const calls = join(dir, 'plugin-calls');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      `echo "$PLUGIN_GREETING $1 $KUBERNETES_EXEC_INFO" >> ${calls}`,
      'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t-\'$(wc -l < ' +
        calls +
        ')\'","expirationTimestamp":"\'$EXPIRES\'"}}\'',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  const plugin = {
    command: './plugin.sh',
    args: ['get-token'],
    env: { PLUGIN_GREETING: 'hello' },
    apiVersion: 'client.authentication.k8s.io/v1',
    provideClusterInfo: true,
    dir,
  };
  const cluster = { server: 'https://x.example', tls: { insecureSkipVerify: false } };
  process.env.EXPIRES = new Date(Date.now() + 3_600_000).toISOString();
  const source = new ExecCredentialSource(plugin, cluster);
  assert.equal((await source.credential()).token, 't-1');
  assert.equal((await source.credential()).token, 't-1', 'kept until it expires');
  assert.equal(
    (await source.credential(Date.now() + 3_600_000)).token,
    't-2',
    'fetched again near its expiry',
  );
  source.forget();
  assert.equal((await source.credential()).token, 't-3', 'fetched again after a 401');
  const first = (await readFile(calls, 'utf8')).split('\n')[0]!;
  assert.match(first, /^hello get-token /);
  const info = JSON.parse(first.replace(/^hello get-token /, '')) as {
    spec: { interactive: boolean; cluster: { server: string } };
  };
  assert.equal(info.spec.interactive, false);
  assert.equal(info.spec.cluster.server, 'https://x.example');
  delete process.env.EXPIRES;
});

test('an exec plugin that fails or prints something else is reported with its command', async () => {
  const failing = join(dir, 'failing.sh');
  await writeFile(failing, '#!/bin/sh\necho "please run login first" >&2\nexit 3\n');
  await chmod(failing, 0o755);
  const plugin = {
    command: failing,
    args: [],
    env: {},
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    provideClusterInfo: false,
    dir,
  };
  const cluster = { server: 'https://x.example', tls: { insecureSkipVerify: false } };
  await assert.rejects(
    new ExecCredentialSource(plugin, cluster).credential(),
    /kubeconfig exec plugin .*failing\.sh failed: .*\(please run login first\)/,
  );
  assert.throws(() => readExecCredential('nope', 'client.authentication.k8s.io/v1'), /not JSON/);
  assert.throws(
    () =>
      readExecCredential(
        '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}',
        'client.authentication.k8s.io/v1',
      ),
    /answered with apiVersion client.authentication.k8s.io\/v1beta1, the kubeconfig asks for client.authentication.k8s.io\/v1/,
  );
  assert.throws(
    () => readExecCredential('{"apiVersion":"v","kind":"ExecCredential","status":{}}', 'v'),
    /neither status.token nor status.clientCertificateData and clientKeyData/,
  );
  const withCert = readExecCredential(
    '{"apiVersion":"v","kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}}',
    'v',
  );
  assert.equal(withCert.cert?.toString(), 'C');
  assert.equal(withCert.expiresAt, undefined, 'no expiry: kept until the API server refuses it');
});
