// The kubeconfig as kubectl reads it, loaded through the client library's KubeConfig: which file wins, how
// files merge, kubectl's connection flags, what the library drops (tokenFile, as-groups) and the exec plugin.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { ExecAuthenticator, readExecCredential } from '../../../src/kube/exec-authenticator.ts';
import {
  type ConnectionOptions,
  type KubeConnection,
  loadKubeConnection,
  NoKubeConfigError,
  operatorNamespace,
} from '../../../src/kube/kube-connection.ts';

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

const load = (kubeconfig?: string, options: ConnectionOptions = {}): KubeConnection =>
  loadKubeConnection({ ...(kubeconfig === undefined ? {} : { kubeconfig }), ...options });

/** The headers a request through this connection carries. */
async function headersOf(connection: KubeConnection): Promise<Record<string, string>> {
  const context = new RequestContext(`${connection.server}/api`, HttpMethod.GET);
  await connection.config.applySecurityAuthentication(context);
  return context.getHeaders();
}

let dir: string;
const saved = { ...process.env };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const key of [
    'KUBECONFIG',
    'KUBERNETES_SERVICE_HOST',
    'KUBERNETES_SERVICE_PORT',
    'POD_NAMESPACE',
    'HOME',
  ]) {
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
  assert.equal(load(flag).server, 'https://flag.example:6443');
  assert.equal(load().server, 'https://env.example:6443');
  assert.equal(operatorNamespace(load(flag)), 'ops');
  assert.equal(operatorNamespace(load()), 'default');
  process.env.POD_NAMESPACE = 'from-downward-api';
  assert.equal(operatorNamespace(load(flag)), 'from-downward-api');
});

test('clear errors for a missing file and for no configuration at all', () => {
  assert.throws(() => load(join(dir, 'nope')), /kubeconfig .*nope \(from --kubeconfig\) does not exist/);
  delete process.env.KUBECONFIG;
  delete process.env.KUBERNETES_SERVICE_HOST;
  process.env.HOME = dir;
  assert.throws(
    () => load(),
    (error: unknown) =>
      error instanceof NoKubeConfigError &&
      /no Kubernetes API server configured: pass --kubeconfig/.test(error.message),
  );
});

test('a malformed kubeconfig names the file', async () => {
  const bad = join(dir, 'bad');
  await writeFile(bad, 'clusters: [');
  assert.throws(() => load(bad), /cannot read kubeconfig .*bad \(from --kubeconfig\)/);
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
  const merged = load();
  assert.equal(merged.context, 'a');
  assert.equal(merged.server, 'https://first.example');
  assert.equal((await headersOf(merged)).Authorization, 'Bearer from-second');
  const other = load(undefined, { context: 'b' });
  assert.equal(other.server, 'https://d.example');
  assert.equal(other.namespace, 'team-b');
  assert.throws(() => load(undefined, { context: 'nope' }), /context "nope" is not in the kubeconfig/);
});

test('certificate files are read relative to the kubeconfig that names them; a token file wins over a token', async () => {
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
      `users: [{name: u, user: {client-certificate-data: ${Buffer.from('CERT PEM').toString('base64')}, client-key: pki/key.pem}}, {name: f, user: {token: ignored, tokenFile: token}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}, {name: y, context: {cluster: c, user: f}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const connection = load(path);
  assert.equal(connection.server, 'https://api.example:6443', 'a trailing slash would double in every path');
  const options: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } = {};
  await connection.config.applyToHTTPSOptions(options);
  assert.equal(options.ca?.toString(), 'CA PEM');
  assert.equal(options.cert?.toString(), 'CERT PEM');
  assert.equal(options.key?.toString(), 'KEY PEM');
  assert.equal(options.servername, 'api.internal');
  // client-go reads tokenFile (re-read while running) in preference to token; its content is trimmed.
  assert.equal((await headersOf(load(path, { context: 'y' }))).Authorization, 'Bearer file-token');
});

test("kubectl's connection flags override the kubeconfig as kubectl's do", async () => {
  const path = join(dir, 'flags');
  await writeFile(
    path,
    [
      'clusters: [{name: c, cluster: {server: "https://c.example", certificate-authority-data: Q0E=}}, {name: d, cluster: {server: "https://d.example"}}]',
      'users: [{name: u, user: {token: from-u, as: kubeconfig-user, as-groups: [kubeconfig-group]}}, {name: v, user: {token: from-v}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const plain = await headersOf(load(path));
  assert.equal(plain.Authorization, 'Bearer from-u');
  assert.equal(plain['Impersonate-User'], 'kubeconfig-user', 'as: is sent, not ignored');
  assert.equal(plain['Impersonate-Group'], 'kubeconfig-group', 'as-groups: is sent, not ignored');
  assert.equal(load(path, { cluster: 'd' }).server, 'https://d.example');
  assert.equal((await headersOf(load(path, { user: 'v' }))).Authorization, 'Bearer from-v');
  assert.equal(load(path, { server: 'https://other.example/' }).server, 'https://other.example');
  assert.equal((await headersOf(load(path, { token: 'flag-token' }))).Authorization, 'Bearer flag-token');
  const impersonated = await headersOf(load(path, { impersonate: 'flag-user', impersonateGroups: ['g1'] }));
  assert.equal(impersonated['Impersonate-User'], 'flag-user');
  assert.equal(impersonated['Impersonate-Group'], 'g1');
  const insecure = load(path, { insecureSkipTlsVerify: true }).config.getCurrentCluster();
  assert.equal(insecure?.skipTLSVerify, true);
  assert.equal(insecure?.caData, undefined, 'kubectl drops the CA when told not to verify');
  assert.throws(() => load(path, { cluster: 'nope' }), /cluster "nope" is not in the kubeconfig/);
  assert.throws(() => load(path, { user: 'nope' }), /user "nope" is not in the kubeconfig/);
  assert.throws(
    () => load(path, { impersonate: 'x', impersonateGroups: ['a', 'b'] }),
    /impersonating more than one group \(a, b\) is not supported/,
  );
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
    async () =>
      load(
        await write(
          'exec-version',
          '{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}',
        ),
      ),
    /exec.apiVersion "client.authentication.k8s.io\/v1alpha1" is not client.authentication.k8s.io\/v1 or v1beta1/,
  );
  await assert.rejects(
    async () => load(await write('no-server', '{token: t}', '{insecure-skip-tls-verify: true}')),
    /cannot read kubeconfig .*no-server.*clusters\[0\]\.cluster\.server is missing/,
  );
  await assert.rejects(
    async () => load(await write('extra', '{token: t, as: a, as-user-extra: {scopes: [s]}}')),
    /kubeconfig user "u" sets as-user-extra, which is not supported/,
  );
  await assert.rejects(
    async () => load(await write('group-only', '{token: t, as-groups: [g]}')),
    /impersonating a group needs a user to impersonate/,
  );
});

test('in a pod: the service account token, CA and namespace', async () => {
  const prefix = join(dir, 'pod');
  const accountDir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
  await mkdir(accountDir, { recursive: true });
  await writeFile(join(accountDir, 'token'), 'pod-token\n');
  await writeFile(join(accountDir, 'ca.crt'), 'POD CA');
  await writeFile(join(accountDir, 'namespace'), 'team-pod');
  delete process.env.KUBECONFIG;
  process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
  process.env.KUBERNETES_SERVICE_PORT = '443';
  const connection = loadKubeConnection({}, prefix);
  assert.equal(connection.server, 'https://[fd00::1]:443');
  assert.equal(connection.context, 'in-cluster');
  assert.equal(connection.namespace, 'team-pod');
  assert.equal((await headersOf(connection)).Authorization, 'Bearer pod-token');
  assert.throws(() => loadKubeConnection({ context: 'x' }, prefix), /context "x" is not in the kubeconfig/);
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
  const cluster = { server: 'https://x.example', insecureSkipTlsVerify: false };
  process.env.EXPIRES = new Date(Date.now() + 3_600_000).toISOString();
  const source = new ExecAuthenticator('u', plugin, cluster);
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
  const cluster = { server: 'https://x.example', insecureSkipTlsVerify: false };
  await assert.rejects(
    new ExecAuthenticator('u', plugin, cluster).credential(),
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
