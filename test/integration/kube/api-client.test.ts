// The operator's API client against the real API server, with each way a kubeconfig says who we are: a
// client certificate, a bearer token, a token file that is rotated while the client runs, and exec
// credential plugins that hand out a token or a client certificate. Failures carry the server's Status.
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { KubeApi } from '../../../src/kube/api-client.ts';
import { ApiError } from '../../../src/kube/api-errors.ts';
import { loadKubeConfig } from '../../../src/kube/kubeconfig.ts';
import { taskPath } from '../../../src/kube/resource-paths.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { type OperatorIdentity, operatorIdentity, periodicTaskYaml } from './operator-identity.ts';

let cluster: ClusterHandle;
let identity: OperatorIdentity;

interface KubeconfigDocument {
  users: Array<{ name: string; user: Record<string, unknown> }>;
}

/** A copy of `source` whose user is replaced by `user` (cluster, CA and context kept). */
async function withUser(source: string, name: string, user: Record<string, unknown>): Promise<string> {
  const document = parse(await readFile(source, 'utf8')) as KubeconfigDocument;
  document.users[0]!.user = user;
  const path = join(cluster.dir, 'users', `${name}.kubeconfig`);
  await writeFile(path, stringify(document), { mode: 0o600 });
  return path;
}

/** An exec plugin that prints `credential` as a client.authentication.k8s.io/v1 ExecCredential. */
async function execPlugin(name: string, status: Record<string, unknown>): Promise<string> {
  const path = join(cluster.dir, 'users', `${name}.sh`);
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status,
  });
  await writeFile(path, `#!/bin/sh\ncat <<'EOF'\n${credential}\nEOF\n`);
  await chmod(path, 0o755);
  return path;
}

const listTasks = (api: KubeApi) =>
  api.request('GET', taskPath(identity.namespace)) as Promise<{ items: unknown[] }>;

before(async () => {
  cluster = await sharedCluster();
  identity = await operatorIdentity(cluster, 'api-client');
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTaskYaml(identity.namespace, 'listed') });
});

after(async () => {
  await identity?.cleanup();
});

test('a client certificate and a bearer token authenticate; the answer is the parsed object', async () => {
  const admin = new KubeApi(loadKubeConfig(cluster.kubeconfigPath));
  assert.equal(loadKubeConfig(cluster.kubeconfigPath).credentials.kind, 'none');
  assert.ok(loadKubeConfig(cluster.kubeconfigPath).tls.cert, 'the admin kubeconfig is a client certificate');
  assert.equal((await listTasks(admin)).items.length, 1);
  assert.equal(loadKubeConfig(identity.kubeconfigPath).credentials.kind, 'token');
  assert.equal((await listTasks(identity.api)).items.length, 1);
});

test('a refusal is an ApiError with the status code and the API server message', async () => {
  const forbidden = await identity.api
    .request('GET', '/api/v1/namespaces/kube-system/secrets')
    .catch((e: unknown) => e);
  assert.ok(forbidden instanceof ApiError);
  assert.equal(forbidden.statusCode, 403);
  assert.equal(forbidden.serverStatus?.reason, 'Forbidden');
  assert.match(
    forbidden.message,
    /^GET \/api\/v1\/namespaces\/kube-system\/secrets: HTTP 403: .*cannot list resource "secrets"/,
  );
  // The operator may only list and watch; an admin may get, and is told the object does not exist.
  const admin = new KubeApi(loadKubeConfig(cluster.kubeconfigPath));
  const missing = await admin.request('GET', taskPath(identity.namespace, 'nope')).catch((e: unknown) => e);
  assert.ok(missing instanceof ApiError);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.serverStatus?.details?.name, 'nope');
});

test('a rotated token file is read again when the old token is refused', async () => {
  const good = (loadKubeConfig(identity.kubeconfigPath).credentials as { token: string }).token;
  const tokenFile = join(cluster.dir, 'users', 'rotating-token');
  await writeFile(tokenFile, 'not-a-valid-token\n');
  const api = new KubeApi(loadKubeConfig(await withUser(identity.kubeconfigPath, 'rotating', { tokenFile })));
  const refused = await listTasks(api).catch((e: unknown) => e);
  assert.ok(refused instanceof ApiError && refused.statusCode === 401, String(refused));
  // The kubelet rewrites the projected token in place; the client must not keep the old one for good.
  await writeFile(tokenFile, `${good}\n`);
  assert.equal((await listTasks(api)).items.length, 1);
});

test('an exec credential plugin can hand out a token or a client certificate', async () => {
  const token = (loadKubeConfig(identity.kubeconfigPath).credentials as { token: string }).token;
  const tokenPlugin = await execPlugin('token-plugin', {
    token,
    expirationTimestamp: new Date(Date.now() + 600_000).toISOString(),
  });
  const viaToken = new KubeApi(
    loadKubeConfig(
      await withUser(identity.kubeconfigPath, 'exec-token', {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: tokenPlugin,
          interactiveMode: 'Never',
        },
      }),
    ),
  );
  assert.equal((await listTasks(viaToken)).items.length, 1);

  const certKubeconfig = await cluster.clientCertKubeConfig('exec-cert-user', ['system:masters']);
  const certUser = (parse(await readFile(certKubeconfig, 'utf8')) as KubeconfigDocument).users[0]!.user;
  const decode = (member: string) => Buffer.from(String(certUser[member]), 'base64').toString('utf8');
  const certPlugin = await execPlugin('cert-plugin', {
    clientCertificateData: decode('client-certificate-data'),
    clientKeyData: decode('client-key-data'),
  });
  const viaCert = new KubeApi(
    loadKubeConfig(
      await withUser(identity.kubeconfigPath, 'exec-cert', {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: certPlugin,
          interactiveMode: 'Never',
        },
      }),
    ),
  );
  const whoami = (await viaCert.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  })) as { status: { userInfo: { username: string } } };
  assert.equal(whoami.status.userInfo.username, 'exec-cert-user');
});
