// Proves the Kubernetes part of the test bed: a real API server serves a CRD, streams a watch event for a
// custom resource to the operator's API client, validates the CRD schema, and enforces RBAC for identities
// that are not admin (client certificate and ServiceAccount token).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { ApiException, CustomObjectsApi, type KubeConfig, Watch } from '@kubernetes/client-node';
import { loadKubeConnection } from '../../../src/kube/kube-connection.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';

const GROUP = 'smoke.testbed.example';
const VERSION = 'v1';
const PLURAL = 'widgets';
const CRD = new URL('./fixtures/widget-crd.yaml', import.meta.url);

let cluster: ClusterHandle;
const namespace = `smoke-${randomBytes(4).toString('hex')}`;

const WIDGETS = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;

interface Api {
  config: KubeConfig;
  objects: CustomObjectsApi;
}

function apiAs(kubeconfigPath: string): Api {
  const { config } = loadKubeConnection({ kubeconfig: kubeconfigPath });
  return { config, objects: config.makeApiClient(CustomObjectsApi) };
}

const createWidget = (api: Api, name: string, size: number): Promise<unknown> =>
  api.objects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', metadata: { name }, spec: { size } },
  });

async function statusOf(request: Promise<unknown>): Promise<number> {
  try {
    await request;
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

const listWidgets = (api: Api): Promise<unknown> =>
  api.objects.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL });

before(async () => {
  cluster = await sharedCluster();
  await cluster.kubectl(['apply', '-f', '-'], { input: await readFile(CRD, 'utf8') });
  await cluster.crdEstablished(`${PLURAL}.${GROUP}`);
  await cluster.kubectl(['create', 'namespace', namespace]);
});

type WidgetEvent = { phase: string; name: string; size: unknown };

/**
 * Starts a watch on the widgets of the test namespace. Right after a CRD is established the API server may
 * answer a watch with 429 while its watch cache initialises (a real informer retries), so this retries too.
 */
async function watchWidgets(api: Api, onEvent: (e: WidgetEvent) => void): Promise<AbortController> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let failure: unknown;
    const controller = await new Watch(api.config).watch(
      WIDGETS,
      {},
      (phase: string, object: unknown) => {
        const widget = object as { metadata: { name: string }; spec: { size: unknown } };
        onEvent({ phase, name: widget.metadata.name, size: widget.spec.size });
      },
      (err: unknown) => {
        failure = err;
      },
    );
    if (failure === undefined) return controller;
    if (Date.now() > deadline)
      throw new Error(`watching ${PLURAL}.${GROUP} kept failing: ${String(failure)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('a custom resource created through the API server arrives as a watch event', async () => {
  const admin = apiAs(cluster.kubeconfigPath);
  const seen: WidgetEvent[] = [];
  let resolveAdded: () => void = () => undefined;
  const added = new Promise<void>((resolve) => {
    resolveAdded = resolve;
  });
  const watch = await watchWidgets(admin, (event) => {
    seen.push(event);
    if (event.phase === 'ADDED') resolveAdded();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await createWidget(admin, 'first', 3);
    await Promise.race([
      added,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no watch event within 30 s')), 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    watch.abort();
  }
  assert.deepEqual(seen[0], { phase: 'ADDED', name: 'first', size: 3 });
});

test('the API server rejects a custom resource that violates the CRD schema', async () => {
  await assert.rejects(
    cluster.kubectl(['apply', '-n', namespace, '-f', '-'], {
      input: `apiVersion: ${GROUP}/${VERSION}\nkind: Widget\nmetadata: {name: bad}\nspec: {size: 0}\n`,
    }),
    /spec\.size/,
  );
});

test('RBAC denies a client-certificate user until a RoleBinding grants it, while admin is allowed', async () => {
  const user = `smoke-user-${randomBytes(3).toString('hex')}`;
  const userApi = apiAs(await cluster.clientCertKubeConfig(user, ['smoke-testers']));
  assert.equal(await statusOf(listWidgets(apiAs(cluster.kubeconfigPath))), 200);
  assert.equal(await statusOf(listWidgets(userApi)), 403);

  await cluster.kubectl([
    'create',
    'role',
    'widget-reader',
    '-n',
    namespace,
    '--verb=list',
    `--resource=${PLURAL}.${GROUP}`,
  ]);
  await cluster.kubectl([
    'create',
    'rolebinding',
    'widget-reader',
    '-n',
    namespace,
    '--role=widget-reader',
    '--group=smoke-testers',
  ]);
  assert.equal(await statusOf(listWidgets(userApi)), 200);
  // The role grants list only.
  assert.equal(await statusOf(createWidget(userApi, 'by-user', 1)), 403);
});

test('a ServiceAccount token from the TokenRequest API authenticates, and RBAC denies it', async () => {
  await cluster.kubectl(['create', 'serviceaccount', 'smoke-bot', '-n', namespace]);
  const kubeconfig = await cluster.serviceAccountKubeConfig(namespace, 'smoke-bot');
  const whoami = await cluster.kubectl([
    '--kubeconfig',
    kubeconfig,
    'auth',
    'whoami',
    '-o',
    'jsonpath={.status.userInfo.username}',
  ]);
  assert.equal(whoami, `system:serviceaccount:${namespace}:smoke-bot`);
  assert.equal(await statusOf(listWidgets(apiAs(kubeconfig))), 403);
});
