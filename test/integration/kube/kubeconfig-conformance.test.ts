// One kubeconfig per way of saying who we are, each used by the operator's client (the operator's loader and
// KubeClient, in this process) and by `kubectl celerybeat` (a child process), against the test bed's real API
// server: client certificate, token, token file, exec plugin (token and certificate), impersonation,
// proxy-url through a CONNECT proxy, tls-server-name and the pod's service account. The API server of the
// test bed has no OIDC issuer, so the OIDC auth-provider's id-token is checked on a TLS server of this test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { ApiError } from '../../../src/kube/api-errors.ts';
import { KubeClient } from '../../../src/kube/kube-client.ts';
import { type KubeConnection, loadKubeConnection } from '../../../src/kube/kube-connection.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { issueServingCert, pkiPaths } from '../../testbed/pki.ts';
import { installCrd, periodicTaskYaml, uniqueName } from './operator-identity.ts';

const PLUGIN = fileURLToPath(new URL('../../../src/plugin/main.ts', import.meta.url));
const ACCOUNT = 'conformance';
const GROUP = 'conformance-group';
const IMPERSONATED = 'conformance-impersonated';

let cluster: ClusterHandle;
let namespace: string;
let dir: string;
let saKubeconfig: string;
let saToken: string;
let certKubeconfig: string;

interface KubeconfigDocument {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
}

/** A copy of `source` with its user and cluster entries changed. */
async function variant(
  source: string,
  name: string,
  change: { user?: Record<string, unknown>; cluster?: Record<string, unknown> },
): Promise<string> {
  const document = parse(await readFile(source, 'utf8')) as KubeconfigDocument;
  if (change.user) document.users[0]!.user = change.user;
  if (change.cluster) document.clusters[0]!.cluster = { ...document.clusters[0]!.cluster, ...change.cluster };
  const path = join(dir, `${name}.kubeconfig`);
  await writeFile(path, stringify(document), { mode: 0o600 });
  return path;
}

async function userOf(source: string): Promise<Record<string, unknown>> {
  return (parse(await readFile(source, 'utf8')) as KubeconfigDocument).users[0]!.user;
}

/** An exec plugin printing `status` as an ExecCredential and KUBERNETES_EXEC_INFO into `<name>.info`. */
async function execPlugin(name: string, status: Record<string, unknown>): Promise<string> {
  const path = join(dir, `${name}.sh`);
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status,
  });
  await writeFile(
    path,
    `#!/bin/sh\nprintf '%s' "$KUBERNETES_EXEC_INFO" > '${join(dir, `${name}.info`)}'\ncat <<'EOF'\n${credential}\nEOF\n`,
  );
  await chmod(path, 0o755);
  return path;
}

const execUser = (command: string) => ({
  exec: {
    apiVersion: 'client.authentication.k8s.io/v1',
    command,
    interactiveMode: 'Never',
    provideClusterInfo: true,
  },
});

/** Who the API server says the connection is. */
async function whoami(connection: KubeConnection): Promise<{ username: string; groups: string[] }> {
  const review = await connection.config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return { username: review.status?.userInfo?.username ?? '', groups: review.status?.userInfo?.groups ?? [] };
}

/** The operator's list of the namespace's PeriodicTasks through this kubeconfig: the names. */
async function operatorList(kubeconfig: string): Promise<string[]> {
  const client = new KubeClient(loadKubeConnection({ kubeconfig }));
  const page = (await client.listTasks(namespace, {
    limit: 10,
    continueToken: undefined,
    signal: AbortSignal.timeout(15_000),
  })) as { items: Array<{ metadata: { name: string } }> };
  return page.items.map((item) => item.metadata.name);
}

/** `kubectl celerybeat history listed` through this kubeconfig. */
function pluginHistory(
  kubeconfig: string,
  extra: string[] = [],
): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    [PLUGIN, 'history', 'listed', '-n', namespace, '--kubeconfig', kubeconfig, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

async function bothSucceed(kubeconfig: string): Promise<void> {
  assert.deepEqual(await operatorList(kubeconfig), ['listed']);
  const plugin = await pluginHistory(kubeconfig);
  assert.equal(plugin.code, 0, plugin.out);
  assert.match(plugin.out, /listed/);
}

before(async () => {
  cluster = await sharedCluster();
  await installCrd(cluster);
  namespace = uniqueName('conformance');
  dir = join(cluster.dir, 'users', namespace);
  await mkdir(dir, { recursive: true });
  await cluster.kubectl(['create', 'namespace', namespace]);
  await cluster.kubectl(['create', 'serviceaccount', ACCOUNT, '-n', namespace]);
  await cluster.kubectl([
    'create',
    'role',
    'reader',
    '-n',
    namespace,
    '--verb=get,list',
    '--resource=periodictasks.celerybeat.io',
  ]);
  await cluster.kubectl([
    'create',
    'rolebinding',
    'reader',
    '-n',
    namespace,
    '--role=reader',
    `--serviceaccount=${namespace}:${ACCOUNT}`,
    `--group=${GROUP}`,
    `--user=${IMPERSONATED}`,
  ]);
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(namespace, 'listed') });
  saKubeconfig = await cluster.serviceAccountKubeConfig(namespace, ACCOUNT);
  saToken = String((await userOf(saKubeconfig)).token);
  certKubeconfig = await cluster.clientCertKubeConfig('conformance-cert', [GROUP]);
});

after(async () => {
  await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
});

test('client certificate', async () => {
  assert.equal(
    (await whoami(loadKubeConnection({ kubeconfig: certKubeconfig }))).username,
    'conformance-cert',
  );
  await bothSucceed(certKubeconfig);
});

test('token', async () => {
  const expected = `system:serviceaccount:${namespace}:${ACCOUNT}`;
  assert.equal((await whoami(loadKubeConnection({ kubeconfig: saKubeconfig }))).username, expected);
  await bothSucceed(saKubeconfig);
});

test('token file: read again when the old token is refused; it wins over token', async () => {
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, 'not-a-valid-token\n');
  const kubeconfig = await variant(saKubeconfig, 'token-file', { user: { token: 'ignored', tokenFile } });
  const client = new KubeClient(loadKubeConnection({ kubeconfig }));
  const list = () =>
    client.listTasks(namespace, { limit: 10, continueToken: undefined, signal: AbortSignal.timeout(15_000) });
  const refused = await list().catch((e: unknown) => e);
  assert.ok(refused instanceof ApiError && refused.statusCode === 401, String(refused));
  // The kubelet rewrites a projected token in place: the next request after a 401 reads it again.
  await writeFile(tokenFile, `${saToken}\n`);
  assert.equal(((await list()) as { items: unknown[] }).items.length, 1);
  await bothSucceed(kubeconfig);
});

test('exec plugin: a token, with KUBERNETES_EXEC_INFO, or a client certificate', async () => {
  const tokenPlugin = await execPlugin('exec-token', {
    token: saToken,
    expirationTimestamp: new Date(Date.now() + 600_000).toISOString(),
  });
  const viaToken = await variant(saKubeconfig, 'exec-token', { user: execUser(tokenPlugin) });
  await bothSucceed(viaToken);
  const info = JSON.parse(await readFile(join(dir, 'exec-token.info'), 'utf8')) as {
    spec: { interactive: boolean; cluster: { server: string } };
  };
  assert.equal(info.spec.interactive, false);
  assert.equal(info.spec.cluster.server, cluster.server);

  const certUser = await userOf(certKubeconfig);
  const decode = (member: string) => Buffer.from(String(certUser[member]), 'base64').toString('utf8');
  const certPlugin = await execPlugin('exec-cert', {
    clientCertificateData: decode('client-certificate-data'),
    clientKeyData: decode('client-key-data'),
  });
  const viaCert = await variant(saKubeconfig, 'exec-cert', { user: execUser(certPlugin) });
  assert.equal((await whoami(loadKubeConnection({ kubeconfig: viaCert }))).username, 'conformance-cert');
  await bothSucceed(viaCert);
});

test('impersonation: as and as-groups', async () => {
  const admin = await userOf(cluster.kubeconfigPath);
  const kubeconfig = await variant(cluster.kubeconfigPath, 'impersonation', {
    user: { ...admin, as: IMPERSONATED, 'as-groups': [GROUP] },
  });
  const who = await whoami(loadKubeConnection({ kubeconfig }));
  assert.equal(who.username, IMPERSONATED);
  assert.ok(who.groups.includes(GROUP), who.groups.join(', '));
  await bothSucceed(kubeconfig);
});

test('proxy-url: every connection goes through the CONNECT proxy', async () => {
  const tunnels: string[] = [];
  const proxy = createHttpServer();
  proxy.on('connect', (request, socket, head) => {
    tunnels.push(request.url ?? '');
    const [host, port] = (request.url ?? '').split(':');
    const upstream = tcpConnect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  try {
    const kubeconfig = await variant(saKubeconfig, 'proxy', {
      cluster: { 'proxy-url': `http://127.0.0.1:${port}` },
    });
    await bothSucceed(kubeconfig);
    const target = new URL(cluster.server).host;
    assert.ok(tunnels.length >= 2, `tunnels: ${tunnels.join(', ')}`);
    assert.ok(
      tunnels.every((t) => t === target),
      tunnels.join(', '),
    );
  } finally {
    proxy.closeAllConnections();
    proxy.close();
  }
});

test("tls-server-name: the server's certificate is checked against that name", async () => {
  const right = await variant(certKubeconfig, 'tls-name', { cluster: { 'tls-server-name': 'localhost' } });
  await bothSucceed(right);
  const wrong = await variant(certKubeconfig, 'tls-wrong-name', {
    cluster: { 'tls-server-name': 'not-the-server.example' },
  });
  await assert.rejects(operatorList(wrong), (error: unknown) =>
    /not-the-server\.example|altnames|certificate/i.test(
      `${String(error)} ${String((error as Error).cause)}`,
    ),
  );
  const plugin = await pluginHistory(wrong);
  assert.equal(plugin.code, 1);
  assert.match(plugin.out, /cannot reach the API server/);
});

test("in a pod: the service account's token, CA and namespace", async () => {
  const prefix = join(dir, 'pod');
  const accountDir = join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount');
  await mkdir(accountDir, { recursive: true });
  await writeFile(join(accountDir, 'token'), saToken);
  await writeFile(join(accountDir, 'ca.crt'), await readFile(cluster.caPath));
  await writeFile(join(accountDir, 'namespace'), namespace);
  const url = new URL(cluster.server);
  const saved = { ...process.env };
  try {
    delete process.env.KUBECONFIG;
    process.env.KUBERNETES_SERVICE_HOST = url.hostname;
    process.env.KUBERNETES_SERVICE_PORT = url.port;
    const connection = loadKubeConnection({}, prefix);
    assert.equal(connection.namespace, namespace);
    assert.equal((await whoami(connection)).username, `system:serviceaccount:${namespace}:${ACCOUNT}`);
    const page = (await new KubeClient(connection).listTasks(connection.namespace, {
      limit: 10,
      continueToken: undefined,
      signal: AbortSignal.timeout(15_000),
    })) as { items: unknown[] };
    assert.equal(page.items.length, 1);
  } finally {
    for (const key of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});

test('OIDC auth-provider: the id-token is the bearer token (on a TLS server of this test)', async () => {
  const pki = pkiPaths(join(cluster.dir, 'pki'));
  const serving = await issueServingCert(pki, `oidc-${namespace}`, ['IP:127.0.0.1']);
  const seen: string[] = [];
  const task = {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'listed', namespace, uid: 'u', resourceVersion: '1' },
    spec: { task: 'tasks.add', interval: { every: 30, period: 'seconds' } },
  };
  const server = createHttpsServer(
    { cert: await readFile(serving.certFile), key: await readFile(serving.keyFile) },
    (request, response) => {
      seen.push(request.headers.authorization ?? '');
      response.setHeader('Content-Type', 'application/json');
      const body = request.url?.includes('/periodictasks/listed')
        ? task
        : { apiVersion: 'celerybeat.io/v1alpha1', kind: 'PeriodicTaskList', metadata: {}, items: [task] };
      response.end(JSON.stringify(body));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const idToken = `${encode({ alg: 'RS256' })}.${encode({ sub: 'oidc-user', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
  try {
    const kubeconfig = await variant(certKubeconfig, 'oidc', {
      cluster: { server: `https://127.0.0.1:${port}` },
      user: {
        'auth-provider': {
          name: 'oidc',
          config: { 'client-id': 'kubectl', 'idp-issuer-url': 'https://issuer.example', 'id-token': idToken },
        },
      },
    });
    await bothSucceed(kubeconfig);
    assert.ok(seen.length >= 2);
    assert.ok(
      seen.every((header) => header === `Bearer ${idToken}`),
      seen.join(', '),
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
