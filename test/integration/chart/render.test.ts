// The chart as `helm lint` and `helm template` see it, with default and non-default values: what each
// setting renders, that bad values fail with a message naming the key, and that the CRD is the one in crds/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseRunConfig, RUN_FLAGS } from '../../../src/cli/run-config.ts';
import {
  chartCrdFile,
  chartDir,
  crdTemplateSource,
  find,
  helm,
  helmError,
  type KubeObject,
  operatorRbacFixture,
  permissions,
  readCrd,
  render,
  withoutKeepAnnotation,
} from './chart.ts';

interface Container {
  args: string[];
  env: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
  }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  ports: { name: string; containerPort: number }[];
}

function container(deployment: KubeObject): Container {
  const spec = deployment.spec as { template: { spec: { containers: Container[] } } };
  const first = spec.template.spec.containers[0];
  assert.ok(first, 'the Deployment has no container');
  return first;
}

function envOf(deployment: KubeObject, name: string) {
  return container(deployment).env.find((e) => e.name === name);
}

const ciValues = readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('.yaml'));

describe('helm lint and template', () => {
  for (const file of ciValues) {
    test(`lint --strict with ci/${file}`, async () => {
      const out = await helm(['lint', '--strict', chartDir, '-f', join(chartDir, 'ci', file)]);
      assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  test('defaults: two replicas leading through a Lease, probes, a locked-down container', async () => {
    const rendered = await render();
    const deployment = find(rendered, 'Deployment', 'beat-celerybeat-operator');
    const spec = deployment.spec as { replicas: number; template: { spec: Record<string, unknown> } };
    assert.equal(spec.replicas, 2);
    const c = container(deployment);
    assert.deepEqual(c.args.slice(0, 2), ['run', '--leader-elect=lease']);
    assert.ok(c.args.includes('--kube-api-qps=20') && c.args.includes('--kube-api-burst=40'));
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.deepEqual(
      c.ports.map((p) => [p.name, p.containerPort]),
      [
        ['metrics', 8080],
        ['health', 8081],
      ],
    );
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal((spec.template.spec.securityContext as Record<string, unknown>).runAsNonRoot, true);
    assert.equal(envOf(deployment, 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
    assert.equal(envOf(deployment, 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(envOf(deployment, 'WATCH_NAMESPACE'), undefined);
    // The Redis URL comes from the Secret the chart creates, never from a plain value.
    assert.deepEqual(envOf(deployment, 'REDIS_URL')?.valueFrom?.secretKeyRef, {
      name: 'beat-celerybeat-operator-connection',
      key: 'redis-url',
    });
    assert.equal(envOf(deployment, 'CELERY_BROKER_URL'), undefined);
    // The CRD is the crds/ file unchanged, so it carries that file's labels only.
    for (const r of rendered.filter((r) => r.object.kind !== 'CustomResourceDefinition')) {
      assert.equal(
        r.object.metadata.labels?.['app.kubernetes.io/managed-by'],
        'Helm',
        `${r.source} lacks labels`,
      );
      assert.equal(r.object.metadata.labels?.['app.kubernetes.io/instance'], 'beat');
    }
    assert.deepEqual(rendered.map((r) => r.object.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
  });

  test('RBAC grants exactly the permissions of the operator code (test/fixtures/kube/operator-rbac.yaml)', async () => {
    const rendered = await render();
    const fixture = parseAllDocuments(readFileSync(operatorRbacFixture, 'utf8')).map(
      (d) => d.toJS() as KubeObject,
    );
    const fixtureRole = (kind: string) => {
      const found = fixture.find((o) => o.kind === kind);
      assert.ok(found, `the fixture has no ${kind}`);
      return found;
    };
    assert.deepEqual(
      permissions(find(rendered, 'ClusterRole', 'beat-celerybeat-operator')),
      permissions(fixtureRole('ClusterRole')),
      'cluster-wide rules differ from the operator code',
    );
    const leaderRole = find(rendered, 'Role', 'beat-celerybeat-operator-leader-election');
    assert.equal(leaderRole.metadata.namespace, 'ops');
    assert.deepEqual(
      permissions(leaderRole),
      permissions(fixtureRole('Role')),
      'Lease rules differ from the operator code',
    );
    const redisElected = await render(['--set', 'leaderElection.mode=redis']);
    assert.ok(!redisElected.some((r) => r.object.kind === 'Role'), 'no Lease rules without Lease election');
  });

  test('watchNamespace: a Role and RoleBinding in that namespace, no cluster-wide grant', async () => {
    const rendered = await render(['--set', 'watchNamespace=apps']);
    assert.ok(!rendered.some((r) => r.object.kind.startsWith('Cluster')));
    const role = find(rendered, 'Role', 'beat-celerybeat-operator');
    assert.equal(role.metadata.namespace, 'apps');
    const binding = find(rendered, 'RoleBinding', 'beat-celerybeat-operator');
    assert.equal(binding.metadata.namespace, 'apps');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'beat-celerybeat-operator', namespace: 'ops' },
    ]);
    assert.equal(envOf(find(rendered, 'Deployment'), 'WATCH_NAMESPACE')?.value, 'apps');
  });

  test('existing Secrets: URLs are read from them and the chart creates no Secret', async () => {
    const rendered = await render(['-f', join(chartDir, 'ci', 'namespaced-values.yaml')]);
    assert.ok(!rendered.some((r) => r.object.kind === 'Secret'));
    const deployment = find(rendered, 'Deployment');
    assert.deepEqual(envOf(deployment, 'REDIS_URL')?.valueFrom?.secretKeyRef, {
      name: 'celery-connection',
      key: 'redis',
    });
    assert.deepEqual(envOf(deployment, 'CELERY_BROKER_URL')?.valueFrom?.secretKeyRef, {
      name: 'celery-connection',
      key: 'amqp',
    });
    assert.ok(!rendered.some((r) => r.object.kind === 'CustomResourceDefinition'), 'crds.install=false');
    assert.ok(!rendered.some((r) => r.object.kind === 'PodDisruptionBudget'));
    assert.ok(container(deployment).args.includes('--leader-elect=none'));
  });

  test('everything on: ServiceMonitor only where its API exists, NetworkPolicy, URLs kept out of the pod spec', async () => {
    const values = ['-f', join(chartDir, 'ci', 'full-values.yaml')];
    const withMonitoring = await render([...values, '--api-versions', 'monitoring.coreos.com/v1']);
    const monitor = find(withMonitoring, 'ServiceMonitor', 'beat');
    assert.deepEqual(monitor.metadata.labels?.release, 'prometheus');
    find(withMonitoring, 'NetworkPolicy', 'beat');
    const deployment = find(withMonitoring, 'Deployment', 'beat');
    assert.equal((deployment.spec as { replicas: number }).replicas, 3);
    assert.ok(!JSON.stringify(deployment).includes('s3cret'), 'a URL with a password is in the Deployment');
    const secret = find(withMonitoring, 'Secret');
    assert.deepEqual(secret.stringData, {
      'redis-url': 'rediss://:s3cret@redis.example.com:6380/2',
      'broker-url': 'amqps://celery:s3cret@rabbitmq.example.com:5671/celery',
    });
    const crd = find(withMonitoring, 'CustomResourceDefinition');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], undefined, 'crds.keep=false');

    const withoutMonitoring = await render(values);
    assert.ok(!withoutMonitoring.some((r) => r.object.kind === 'ServiceMonitor'));
  });

  test("the chart's command line and environment are accepted by the operator's own flag parser", async () => {
    for (const values of [
      [],
      ['-f', join(chartDir, 'ci', 'full-values.yaml')],
      ['-f', join(chartDir, 'ci', 'namespaced-values.yaml')],
    ]) {
      const c = container(find(await render(values), 'Deployment'));
      assert.equal(c.args[0], 'run');
      // Secrets resolve to a URL of the right kind, as the kubelet would fill them in.
      const env = Object.fromEntries(
        c.env.map((e) => [e.name, e.value ?? (e.valueFrom?.secretKeyRef ? 'redis://redis:6379/0' : 'pod')]),
      );
      const config = parseRunConfig(c.args.slice(1), env);
      assert.notEqual(config, 'help');
      if (config === 'help') return;
      assert.equal(config.leaderElect, c.args.includes('--leader-elect=none') ? 'none' : 'lease');
      assert.equal(config.namespace, env.WATCH_NAMESPACE);
      assert.equal(config.keyPrefix, env.KEY_PREFIX);
      for (const name of Object.keys(env)) {
        const known = Object.values(RUN_FLAGS).some((flag) => flag.env === name);
        assert.ok(
          known || ['POD_NAME', 'POD_NAMESPACE', 'NODE_OPTIONS'].includes(name),
          `${name} is read by no flag`,
        );
      }
    }
  });

  test('the CRD is crds/celerybeat.io_periodictasks.yaml byte for byte, plus the keep annotation', async () => {
    const original = readCrd();
    assert.equal(
      readFileSync(chartCrdFile, 'utf8'),
      original,
      'copy crds/ into charts/celerybeat-operator/files/crds/',
    );
    const rendered = await render();
    const crd = rendered.find((r) => r.source === crdTemplateSource);
    assert.ok(crd, 'no CRD rendered');
    assert.equal(crd.object.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(withoutKeepAnnotation(crd.text, original).trimEnd(), original.trimEnd());
    // Either would keep the CRD OutOfSync in Argo CD forever.
    assert.equal(crd.object.status, undefined, 'the CRD carries a status stanza');
    assert.equal((crd.object.spec as Record<string, unknown>).preserveUnknownFields, undefined);
  });
});

describe('invalid values fail with a message naming the key', () => {
  const cases: [string, string[], RegExp][] = [
    ['a misspelt key', ['--set', 'redisUrl=redis://r:6379'], /additional properties 'redisUrl' not allowed/],
    ['a wrong type', ['--set', 'replicaCount=two'], /\/replicaCount.*want integer/],
    ['a URL of the wrong scheme', ['--set', 'redis.url=http://redis:6379'], /\/redis\/url/],
    ['an unknown leader election mode', ['--set', 'leaderElection.mode=etcd'], /\/leaderElection\/mode/],
    ['an unknown log level', ['--set', 'logLevel=verbose'], /\/logLevel/],
    ['a bad namespace name', ['--set', 'watchNamespace=Apps_1'], /\/watchNamespace/],
    [
      'several replicas without leader election',
      ['--set', 'leaderElection.mode=none'],
      /leaderElection.mode=none needs replicaCount=1 \(got 2\)/,
    ],
    ['no Redis at all', ['--set', 'redis.url='], /set redis.url or redis.existingSecret/],
    [
      'a PodDisruptionBudget that blocks every eviction',
      ['--set', 'podDisruptionBudget.minAvailable=2'],
      /podDisruptionBudget.minAvailable \(2\) must be below replicaCount \(2\)/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      assert.match(await helmError(['template', 'beat', chartDir, ...args]), message);
    });
  }
});
