// `helm install` into a real kube-apiserver: every object is created, the CRD is the one in crds/, and the
// chart's own ServiceAccount (a TokenRequest token, authorized by real RBAC) can do what the operator does
// and nothing more. A private control plane, because the chart owns cluster-scoped objects (the CRD and a
// ClusterRole) that other tests may create too. There is no scheduler, so no pod runs; that is not needed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CommandError } from '../../testbed/command.ts';
import { type ControlPlane, startControlPlane } from '../../testbed/control-plane.ts';
import {
  chartDir,
  crdTemplateSource,
  type KubeObject,
  readCrd,
  splitManifest,
  withoutKeepAnnotation,
} from './chart.ts';
import { rawRequest } from './raw-request.ts';

const release = 'beat';
const namespace = 'celerybeat-system';
const appNamespace = 'apps';
const serviceAccount = 'beat-celerybeat-operator';
// A second release that watches one namespace only, with the CRD left to the first.
const teamNamespace = 'team-a';
const otherNamespace = 'team-b';
const teamServiceAccount = 'team-celerybeat-operator';

let cluster: ControlPlane;
let saKubeconfig: string;
let teamKubeconfig: string;

/** Runs kubectl with a ServiceAccount's token; resolves to the error text when the request is refused. */
async function asAccount(
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<{ ok: boolean; output: string }> {
  try {
    return { ok: true, output: await cluster.kubectl(['--kubeconfig', kubeconfig, ...args], { input }) };
  } catch (err) {
    if (err instanceof CommandError) return { ok: false, output: err.stderr };
    throw err;
  }
}

async function allowed(args: string[], input?: string, kubeconfig = saKubeconfig): Promise<string> {
  const result = await asAccount(kubeconfig, args, input);
  assert.ok(result.ok, `the ServiceAccount was refused "kubectl ${args.join(' ')}": ${result.output}`);
  return result.output;
}

async function denied(args: string[], input?: string, kubeconfig = saKubeconfig): Promise<void> {
  const result = await asAccount(kubeconfig, args, input);
  assert.ok(!result.ok, `the ServiceAccount may "kubectl ${args.join(' ')}"`);
  assert.match(result.output, /forbidden/i);
}

/** A merge patch of the status subresource, the one write the operator makes to a PeriodicTask. */
async function patchStatus(kubeconfig: string, name: string, status: Record<string, unknown>): Promise<void> {
  const path = `/apis/celerybeat.io/v1alpha1/namespaces/${appNamespace}/periodictasks/${name}/status`;
  const response = await rawRequest(kubeconfig, 'PATCH', path, { status }, 'application/merge-patch+json');
  assert.equal(response.status, 200, `status patch of ${name} refused: ${response.body}`);
}

const task = (name: string) => `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: ${name}, namespace: ${appNamespace}}
spec: {task: tasks.add, interval: {every: 30, period: seconds}, args: [16, 16]}
`;

const lease = (resourceVersion?: string) => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: celerybeat-operator
  namespace: ${namespace}
${resourceVersion ? `  resourceVersion: "${resourceVersion}"\n` : ''}spec:
  holderIdentity: ${resourceVersion ? 'beat-1' : 'beat-0'}
  leaseDurationSeconds: 15
`;

describe('helm install into a real API server', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await startControlPlane();
    await cluster.kubectl(['create', 'namespace', appNamespace]);
    await cluster.helm(['install', release, chartDir, '--namespace', namespace, '--create-namespace']);
    saKubeconfig = await cluster.serviceAccountKubeConfig(namespace, serviceAccount);
    await cluster.kubectl(['create', 'namespace', otherNamespace]);
    await cluster.helm([
      'install',
      'team',
      chartDir,
      '--namespace',
      teamNamespace,
      '--create-namespace',
      '--set',
      'crds.install=false',
      '--set',
      `watchNamespace=${appNamespace}`,
    ]);
    teamKubeconfig = await cluster.serviceAccountKubeConfig(teamNamespace, teamServiceAccount);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('every object of the release exists in the cluster', async () => {
    const manifest = splitManifest(
      await cluster.helm(['get', 'manifest', release, '--namespace', namespace]),
    );
    assert.ok(manifest.length >= 10, `only ${manifest.length} objects in the release`);
    for (const { object } of manifest) {
      const ns = object.metadata.namespace ? ['--namespace', object.metadata.namespace] : [];
      const group = object.apiVersion.includes('/') ? `.${object.apiVersion.split('/')[0]}` : '';
      const live = JSON.parse(
        await cluster.kubectl(['get', `${object.kind}${group}`, object.metadata.name, ...ns, '-o', 'json']),
      ) as KubeObject;
      assert.equal(live.metadata.name, object.metadata.name);
    }
  });

  test('the installed CRD is crds/celerybeat.io_periodictasks.yaml, marked to be kept', async () => {
    const original = readCrd();
    const manifest = splitManifest(
      await cluster.helm(['get', 'manifest', release, '--namespace', namespace]),
    );
    const crd = manifest.find((r) => r.source === crdTemplateSource);
    assert.ok(crd, 'the release has no CRD');
    assert.equal(withoutKeepAnnotation(crd.text, original).trimEnd(), original.trimEnd());
    const live = JSON.parse(
      await cluster.kubectl(['get', 'crd', 'periodictasks.celerybeat.io', '-o', 'json']),
    ) as KubeObject & { spec: Record<string, unknown> };
    const sent = crd.object as KubeObject & { spec: Record<string, unknown> };
    for (const field of ['group', 'names', 'scope', 'versions']) {
      assert.deepEqual(live.spec[field], sent.spec[field], `spec.${field} differs from crds/`);
    }
    assert.equal(live.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  });

  test("the operator's ServiceAccount may do what the operator does", async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: task('add-every-30-seconds') });
    await allowed(['get', 'periodictasks', '--all-namespaces']);
    assert.match(
      await allowed(['auth', 'can-i', 'watch', 'periodictasks.celerybeat.io', '--all-namespaces']),
      /yes/,
    );
    await patchStatus(saKubeconfig, 'add-every-30-seconds', { totalRunCount: 1, observedGeneration: 1 });
    const updated = JSON.parse(
      await cluster.kubectl([
        'get',
        'periodictask',
        'add-every-30-seconds',
        '-n',
        appNamespace,
        '-o',
        'json',
      ]),
    ) as { status?: { totalRunCount?: number } };
    assert.equal(updated.status?.totalRunCount, 1);

    await allowed(
      ['create', '-f', '-'],
      `apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: add-every-30-seconds.events, namespace: ${appNamespace}}
eventTime: "2026-11-24T07:00:00.000000Z"
regarding: {apiVersion: celerybeat.io/v1alpha1, kind: PeriodicTask, name: add-every-30-seconds, namespace: ${appNamespace}}
reason: Dispatched
note: sent tasks.add
type: Normal
action: Dispatch
reportingController: celerybeat.io/operator
reportingInstance: beat-0
`,
    );

    await allowed(['create', '-f', '-'], lease());
    const current = JSON.parse(
      await allowed(['get', 'lease', 'celerybeat-operator', '-n', namespace, '-o', 'json']),
    ) as KubeObject;
    const resourceVersion = (current.metadata as { resourceVersion?: string }).resourceVersion;
    await allowed(['replace', '-f', '-'], lease(resourceVersion));
  });

  test("the operator's ServiceAccount may do nothing else", async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: task('untouchable') });
    await denied(['get', 'secrets', '-n', namespace]);
    await denied(['get', 'secrets', '--all-namespaces']);
    await denied(['delete', 'periodictask', 'untouchable', '-n', appNamespace]);
    await denied(['create', '-f', '-'], task('created-by-operator'));
    // The spec belongs to its author: a patch of it is refused by RBAC itself, not by a missing GET.
    const specPatch = await rawRequest(
      saKubeconfig,
      'PATCH',
      `/apis/celerybeat.io/v1alpha1/namespaces/${appNamespace}/periodictasks/untouchable`,
      { spec: { task: 'tasks.mul' } },
      'application/merge-patch+json',
    );
    assert.equal(specPatch.status, 403, specPatch.body);
    assert.match(JSON.parse(specPatch.body).message, /cannot patch resource "periodictasks"/);
    await denied(['get', 'lease', 'some-other-lease', '-n', namespace]);
    await denied(['get', 'lease', 'celerybeat-operator', '-n', appNamespace]);
    await denied(['get', 'pods', '-n', namespace]);
    await denied(['get', 'customresourcedefinitions']);
    await denied(['delete', 'periodictaskpolicy', 'any-policy']);
  });

  test('with watchNamespace, the ServiceAccount reaches that namespace only (and lists the policies)', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: task('team-task') });
    await allowed(['get', 'periodictasks', '-n', appNamespace], undefined, teamKubeconfig);
    await patchStatus(teamKubeconfig, 'team-task', { missedRunCount: 0 });
    await denied(['get', 'periodictasks', '--all-namespaces'], undefined, teamKubeconfig);
    await denied(['get', 'periodictasks', '-n', otherNamespace], undefined, teamKubeconfig);
    await denied(['get', 'periodictasks', '-n', namespace], undefined, teamKubeconfig);
    await allowed(['get', 'periodictaskpolicies'], undefined, teamKubeconfig);
    await allowed(['get', 'namespaces'], undefined, teamKubeconfig);
    const clusterRoles = await cluster.kubectl(['get', 'clusterroles,clusterrolebindings', '-o', 'name']);
    // Cluster-wide, only reading the cluster-scoped policies and namespaces, and the roles for users.
    assert.deepEqual(
      clusterRoles
        .split('\n')
        .filter((n) => n.includes('team-celerybeat-operator'))
        .sort(),
      [
        'clusterrole.rbac.authorization.k8s.io/team-celerybeat-operator-edit',
        'clusterrole.rbac.authorization.k8s.io/team-celerybeat-operator-policies',
        'clusterrole.rbac.authorization.k8s.io/team-celerybeat-operator-view',
        'clusterrolebinding.rbac.authorization.k8s.io/team-celerybeat-operator-policies',
      ],
    );
  });

  test('uninstall removes the release and keeps the CRD and the PeriodicTasks', async () => {
    await cluster.helm(['uninstall', release, '--namespace', namespace]);
    await cluster.kubectl(['get', 'crd', 'periodictasks.celerybeat.io']);
    await cluster.kubectl(['get', 'periodictask', 'add-every-30-seconds', '-n', appNamespace]);
    const left = await cluster.kubectl([
      'get',
      'deployments,serviceaccounts,roles',
      '-n',
      namespace,
      '-o',
      'name',
    ]);
    assert.doesNotMatch(left, /beat-celerybeat-operator/);
    const clusterRoles = await cluster.kubectl(['get', 'clusterroles', '-o', 'name']);
    assert.doesNotMatch(clusterRoles, /beat-celerybeat-operator/);
  });
});
