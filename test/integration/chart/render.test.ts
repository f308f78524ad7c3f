// The chart as `helm lint` and `helm template` see it, with default and non-default values: what each
// setting renders, that bad values fail with a message naming the key, and that the CRD is the one in crds/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseRunConfig, RUN_FLAGS } from '../../../src/cli/run-config.ts';
import { registry } from '../../../src/observe/metrics.ts';
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
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: { httpGet: { path: string }; periodSeconds: number; failureThreshold: number };
  resources: { requests: { memory: string }; limits: { memory: string } };
  image: string;
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

interface Volume {
  name: string;
  projected?: {
    defaultMode: number;
    sources: { secret: { name: string; items: { key: string; path: string }[] } }[];
  };
  secret?: { secretName: string };
}

function podSpec(deployment: KubeObject): { volumes: Volume[]; enableServiceLinks?: boolean } {
  return (deployment.spec as { template: { spec: { volumes: Volume[]; enableServiceLinks?: boolean } } })
    .template.spec;
}

/** The connection volume's files: path in the mount → [Secret, key]. */
function connectionFiles(deployment: KubeObject): Record<string, [string, string]> {
  const volume = podSpec(deployment).volumes.find((v) => v.name === 'connection');
  assert.ok(volume?.projected, 'no projected connection volume');
  return Object.fromEntries(
    volume.projected.sources.flatMap((s) => s.secret.items.map((i) => [i.path, [s.secret.name, i.key]])),
  );
}

const connectionDir = '/etc/celerybeat-operator/connection';

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
    // The Redis URL comes from the Secret the chart creates, as a file: never in the environment.
    assert.equal(envOf(deployment, 'REDIS_URL_FILE')?.value, `${connectionDir}/redis-url`);
    assert.deepEqual(connectionFiles(deployment), {
      'redis-url': ['beat-celerybeat-operator-connection', 'redis-url'],
    });
    assert.ok(
      c.volumeMounts.some((m) => m.name === 'connection' && m.mountPath === connectionDir && m.readOnly),
      'the connection volume is mounted read-only',
    );
    assert.equal(envOf(deployment, 'CELERY_BROKER_URL_FILE'), undefined);
    assert.ok(
      !c.env.some((e) => e.valueFrom?.secretKeyRef),
      'no Secret is read into an environment variable (it would show in /proc/<pid>/environ)',
    );
    // Lease election on the Lease the operator has always used, in the release namespace.
    assert.ok(c.args.includes('--lease-name=celerybeat-operator'));
    assert.ok(c.args.includes('--lease-namespace=ops'));
    // A cold start of many tasks must not be killed by the liveness probe before the cache is synced.
    assert.equal(c.startupProbe?.httpGet.path, '/readyz');
    assert.ok((c.startupProbe?.periodSeconds ?? 0) * (c.startupProbe?.failureThreshold ?? 0) >= 300);
    assert.equal(podSpec(deployment).enableServiceLinks, false);
    assert.equal(c.image, 'celerybeat-operator:0.1.0');
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
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'Role',
      'RoleBinding',
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
    const fixtureRole = (kind: string, name?: string) => {
      const found = fixture.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
      assert.ok(found, `the fixture has no ${kind} ${name ?? ''}`);
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
      permissions(fixtureRole('Role', 'celerybeat-operator-leader-election')),
      'Lease rules differ from the operator code',
    );
    // The brokers' Secrets: get, in the release namespace only, never cluster-wide.
    const secretsRole = find(rendered, 'Role', 'beat-celerybeat-operator-broker-secrets');
    assert.equal(secretsRole.metadata.namespace, 'ops');
    assert.deepEqual(
      permissions(secretsRole),
      permissions(fixtureRole('Role', 'celerybeat-operator-broker-secrets')),
      'Secret rules differ from the operator code',
    );
    assert.equal(
      find(rendered, 'RoleBinding', 'beat-celerybeat-operator-broker-secrets').metadata.namespace,
      'ops',
    );
    for (const role of rendered.filter((r) => r.object.kind === 'ClusterRole'))
      assert.ok(
        !JSON.stringify(role.object).includes('secrets'),
        `${role.object.metadata.name} grants Secrets`,
      );
    const named = await render(['--set', 'rbac.brokerSecretNames={team-b-broker}']);
    assert.deepEqual(
      (
        find(named, 'Role', 'beat-celerybeat-operator-broker-secrets').rules as { resourceNames?: string[] }[]
      )[0]?.resourceNames,
      ['team-b-broker'],
    );
    const redisElected = await render(['--set', 'leaderElection.mode=redis']);
    assert.ok(
      !redisElected.some(
        (r) => r.object.kind === 'Role' && r.object.metadata.name.endsWith('leader-election'),
      ),
      'no Lease rules without Lease election',
    );
  });

  test('watchNamespace: a Role and RoleBinding in that namespace; cluster-wide, only the policy reads', async () => {
    const rendered = await render(['--set', 'watchNamespace=apps']);
    const grants = rendered.filter((r) => r.object.kind === 'ClusterRoleBinding');
    assert.deepEqual(
      grants.map((r) => r.object.metadata.name),
      ['beat-celerybeat-operator-policies'],
    );
    assert.deepEqual(permissions(find(rendered, 'ClusterRole', 'beat-celerybeat-operator-policies')), [
      '/namespaces/*:list',
      'celerybeat.io/periodictaskpolicies/*:list',
    ]);
    const role = find(rendered, 'Role', 'beat-celerybeat-operator');
    assert.equal(role.metadata.namespace, 'apps');
    const binding = find(rendered, 'RoleBinding', 'beat-celerybeat-operator');
    assert.equal(binding.metadata.namespace, 'apps');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'beat-celerybeat-operator', namespace: 'ops' },
    ]);
    assert.equal(envOf(find(rendered, 'Deployment'), 'WATCH_NAMESPACE')?.value, 'apps');
  });

  test('edit and view: PeriodicTasks aggregated into the built-in roles, policies in none of them', async () => {
    const rendered = await render();
    const edit = find(rendered, 'ClusterRole', 'beat-celerybeat-operator-edit');
    assert.equal(edit.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.equal(edit.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    const grants = (resource: string, verbs: string[]) =>
      verbs.map((v) => `celerybeat.io/${resource}/*:${v}`);
    assert.deepEqual(
      permissions(edit),
      grants('periodictasks', [
        'create',
        'delete',
        'deletecollection',
        'get',
        'list',
        'patch',
        'update',
        'watch',
      ]),
    );
    const view = find(rendered, 'ClusterRole', 'beat-celerybeat-operator-view');
    assert.equal(view.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    assert.deepEqual(permissions(view), [
      ...grants('periodictasks', ['get', 'list', 'watch']),
      ...grants('periodictasks/status', ['get', 'list', 'watch']),
    ]);
    const policyCrd = rendered.find(
      (r) =>
        r.object.kind === 'CustomResourceDefinition' &&
        r.object.metadata.name === 'periodictaskpolicies.celerybeat.io',
    );
    assert.ok(policyCrd, 'the PeriodicTaskPolicy CRD is rendered');
    assert.equal(policyCrd.object.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
    const admission = ['--set', 'admissionPolicy.enabled=true'];
    assert.ok(
      !(await render(admission)).some((r) => r.object.kind.startsWith('ValidatingAdmissionPolicy')),
      'no admission policy where the API has none',
    );
    const withApi = await render([
      ...admission,
      '--api-versions',
      'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
    ]);
    assert.deepEqual(
      withApi
        .filter((r) => r.object.kind.startsWith('ValidatingAdmission'))
        .map((r) => r.object.metadata.name),
      ['beat-celerybeat-operator-policies', 'beat-celerybeat-operator-policies'],
    );
    const none = await render(['--set', 'rbac.create=false']);
    assert.ok(!none.some((r) => r.object.kind === 'ClusterRole'));
  });

  test('operatorId sets OPERATOR_ID; unset, the operator is named after its release namespace and Lease', async () => {
    assert.equal(envOf(find(await render([]), 'Deployment'), 'OPERATOR_ID'), undefined);
    const rendered = await render(['--set', 'operatorId=platform/beat']);
    assert.equal(envOf(find(rendered, 'Deployment'), 'OPERATOR_ID')?.value, 'platform/beat');
  });

  test('existing Secrets: URLs are read from them and the chart creates no Secret', async () => {
    const rendered = await render(['-f', join(chartDir, 'ci', 'namespaced-values.yaml')]);
    assert.ok(!rendered.some((r) => r.object.kind === 'Secret'));
    const deployment = find(rendered, 'Deployment');
    assert.deepEqual(connectionFiles(deployment), {
      'redis-url': ['celery-connection', 'redis'],
      'broker-url': ['celery-connection', 'amqp'],
    });
    assert.equal(envOf(deployment, 'REDIS_URL_FILE')?.value, `${connectionDir}/redis-url`);
    assert.equal(envOf(deployment, 'CELERY_BROKER_URL_FILE')?.value, `${connectionDir}/broker-url`);
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
      'redis-url': 'rediss://:s3cret@redis.example.com:6380/2?ssl_ca_certs=/tls/ca.crt',
      'broker-url': 'amqps://celery:s3cret@rabbitmq.example.com:5671/celery',
    });
    const crd = find(withMonitoring, 'CustomResourceDefinition');
    assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], undefined, 'crds.keep=false');

    const withoutMonitoring = await render(values);
    assert.ok(!withoutMonitoring.some((r) => r.object.kind === 'ServiceMonitor'));
    assert.ok(!withoutMonitoring.some((r) => r.object.kind === 'PrometheusRule'), 'no rule without the API');
  });

  test('monitoring on: a PrometheusRule with every alert, for this release only, and the dashboard ConfigMap', async () => {
    const rendered = await render([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.prometheusRule.alertLabels.team=platform',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--api-versions',
      'monitoring.coreos.com/v1',
    ]);
    const rule = find(rendered, 'PrometheusRule', 'beat-celerybeat-operator');
    const rules = (rule.spec as { groups: { rules: Record<string, unknown>[] }[] }).groups.flatMap(
      (g) => g.rules,
    );
    assert.deepEqual(
      rules.map((r) => r.alert),
      [
        'CelerybeatOperatorNoLeader',
        'CelerybeatOperatorDispatchesFailing',
        'CelerybeatOperatorMissedRunsRising',
        'CelerybeatOperatorStatusLagging',
        'CelerybeatOperatorInternalErrors',
        'CelerybeatOperatorInvalidStoreKeys',
      ],
    );
    for (const r of rules) {
      const expr = String(r.expr);
      for (const selector of expr.match(/celerybeat_[a-z_]+\{[^}]*\}/g) ?? [])
        assert.match(selector, /namespace="ops",service="beat-celerybeat-operator-metrics"/, `${r.alert}`);
      assert.deepEqual(
        (r.labels as Record<string, string>).team,
        'platform',
        `${r.alert} has the alert labels`,
      );
      assert.ok(['critical', 'warning'].includes((r.labels as Record<string, string>).severity ?? ''));
      // Prometheus fills these in when the alert fires; Helm must have left them alone.
      assert.match(String((r.annotations as Record<string, string>).summary), /\{\{ \$(labels|value)/);
    }
    // The bound of the status lag is the chart's own qps.
    assert.match(String(rules[3]?.expr), /\/ 20, 10\)/);

    const dashboard = find(rendered, 'ConfigMap', 'beat-celerybeat-operator-dashboard');
    assert.equal(dashboard.metadata.labels?.grafana_dashboard, '1', "the Grafana sidecar's default label");
    const json = JSON.parse((dashboard.data as Record<string, string>)['celerybeat-operator.json'] ?? '');
    assert.equal(json.uid, 'celerybeat-operator');

    const elsewhere = await render([
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--set',
      'metrics.grafanaDashboard.namespace=monitoring',
      '--set',
      'metrics.prometheusRule.enabled=true',
    ]);
    assert.equal(find(elsewhere, 'ConfigMap').metadata.namespace, 'monitoring');
    assert.ok(!elsewhere.some((r) => r.object.kind === 'PrometheusRule'), 'no rule without the API');
  });

  test('every query of the dashboard reads metrics the operator exports, and it has runs per minute and hour', async () => {
    const rendered = await render(['--set', 'metrics.grafanaDashboard.enabled=true']);
    const data = find(rendered, 'ConfigMap').data as Record<string, string>;
    const dashboard = JSON.parse(data['celerybeat-operator.json'] ?? '') as {
      panels: { title: string; targets?: { expr: string; interval?: string }[] }[];
      templating: { list: { query?: unknown }[] };
    };
    const exported = new Set<string>();
    for (const metric of await registry.getMetricsAsJSON()) {
      exported.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) exported.add(metric.name + suffix);
    }
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.flatMap((v) =>
        typeof v.query === 'object' && v.query !== null ? [(v.query as { query: string }).query] : [],
      ),
    ];
    assert.ok(queries.length >= 20, 'the queries were found');
    for (const query of queries) {
      const names = [
        ...query.matchAll(/\b([a-z_:][a-z0-9_:]*)\s*\{/g),
        ...query.matchAll(/label_values\(([a-z_:][a-z0-9_:]*)/g),
      ].map((m) => m[1] ?? '');
      assert.ok(names.length > 0, `${query} reads no metric`);
      for (const name of names) assert.ok(exported.has(name), `${name} (in ${query}) is not exported`);
    }
    const perMinute = dashboard.panels.find((p) => p.title === 'Runs sent per minute');
    assert.match(
      perMinute?.targets?.[0]?.expr ?? '',
      /increase\(celerybeat_dispatches_total\{.*result="published"\}\[1m\]\)/,
    );
    assert.equal(perMinute?.targets?.[0]?.interval, '1m');
    const perHour = dashboard.panels.find((p) => p.title === 'Runs sent per hour');
    assert.match(perHour?.targets?.[0]?.expr ?? '', /\[1h\]/);
  });

  test('extraVolumes and extraVolumeMounts: a CA Secret mounted where a rediss:// URL reads it', async () => {
    const rendered = await render(['-f', join(chartDir, 'ci', 'full-values.yaml')]);
    const deployment = find(rendered, 'Deployment', 'beat');
    assert.deepEqual(
      podSpec(deployment).volumes.find((v) => v.name === 'redis-tls'),
      { name: 'redis-tls', secret: { secretName: 'redis-ca' } },
    );
    assert.deepEqual(
      container(deployment).volumeMounts.find((m) => m.name === 'redis-tls'),
      { name: 'redis-tls', mountPath: '/tls', readOnly: true },
    );
    // The chart's own volumes stay.
    assert.deepEqual(
      podSpec(deployment).volumes.map((v) => v.name),
      ['tmp', 'connection', 'redis-tls'],
    );
  });

  test('every URL from a Secret file, whichever Secret holds it; none in the environment', async () => {
    const rendered = await render([
      '--set',
      'broker.url=amqp://celery:pw@mq:5672//',
      '--set',
      'resultBackend.existingSecret=results',
      '--set',
      'resultBackend.existingSecretKey=url',
    ]);
    const deployment = find(rendered, 'Deployment');
    assert.deepEqual(connectionFiles(deployment), {
      'redis-url': ['beat-celerybeat-operator-connection', 'redis-url'],
      'broker-url': ['beat-celerybeat-operator-connection', 'broker-url'],
      'result-backend-url': ['results', 'url'],
    });
    assert.equal(
      envOf(deployment, 'CELERY_RESULT_BACKEND_FILE')?.value,
      `${connectionDir}/result-backend-url`,
    );
    for (const name of ['REDIS_URL', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'])
      assert.equal(envOf(deployment, name), undefined, name);
    assert.ok(!JSON.stringify(deployment).includes(':pw@'));
  });

  test('leaseName and leaderElection.namespace: the flags, and the Lease Role there for that name only', async () => {
    const rendered = await render(['-f', join(chartDir, 'ci', 'full-values.yaml')]);
    const c = container(find(rendered, 'Deployment', 'beat'));
    assert.ok(c.args.includes('--lease-name=beat') && c.args.includes('--lease-namespace=leases'));
    const role = find(rendered, 'Role', 'beat-leader-election');
    assert.equal(role.metadata.namespace, 'leases');
    assert.ok(permissions(role).includes('coordination.k8s.io/leases/beat:update'));
    assert.ok(!permissions(role).some((p) => p.includes('/celerybeat-operator:')));
    const binding = find(rendered, 'RoleBinding', 'beat-leader-election');
    assert.equal(binding.metadata.namespace, 'leases');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'beat-operator', namespace: 'ops' }]);
    const redisElected = container(find(await render(['--set', 'leaderElection.mode=redis']), 'Deployment'));
    assert.ok(
      !redisElected.args.some((a) => a.startsWith('--lease-')),
      'no Lease flags without Lease election',
    );
  });

  test('image.digest pins the image; the memory request follows the sizing rule; the Sentinel port is open', async () => {
    const rendered = await render(['-f', join(chartDir, 'ci', 'full-values.yaml')]);
    const c = container(find(rendered, 'Deployment', 'beat'));
    assert.equal(
      c.image,
      'registry.example.com/platform/celerybeat-operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    // 220 MB + 7 KB per PeriodicTask at 10,000 tasks, for whichever replica leads.
    assert.equal(container(find(await render(), 'Deployment')).resources.requests.memory, '290M');
    const policy = find(rendered, 'NetworkPolicy', 'beat');
    const egress = (policy.spec as { egress: { ports: { port: number }[] }[] }).egress.flatMap((e) =>
      e.ports.map((p) => p.port),
    );
    assert.ok(egress.includes(26379), 'Redis Sentinel');
    assert.ok(egress.includes(6379) && egress.includes(5672));
  });

  test("the chart's command line and environment are accepted by the operator's own flag parser", async () => {
    for (const values of [
      [],
      ['-f', join(chartDir, 'ci', 'full-values.yaml')],
      ['-f', join(chartDir, 'ci', 'namespaced-values.yaml')],
    ]) {
      const deployment = find(await render(values), 'Deployment');
      const c = container(deployment);
      assert.equal(c.args[0], 'run');
      const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? 'pod']));
      // Secret files hold a URL of the right kind, as the kubelet would mount them.
      const files = connectionFiles(deployment);
      const readFile = (path: string): string => {
        assert.ok(path.startsWith(`${connectionDir}/`), `${path} is not in the connection volume`);
        assert.ok(path.slice(connectionDir.length + 1) in files, `${path} is not mounted`);
        return 'redis://redis:6379/0\n';
      };
      const config = parseRunConfig(c.args.slice(1), env, readFile);
      assert.notEqual(config, 'help');
      if (config === 'help') return;
      assert.equal(config.leaderElect, c.args.includes('--leader-elect=none') ? 'none' : 'lease');
      assert.equal(config.namespace, env.WATCH_NAMESPACE);
      assert.equal(config.keyPrefix, env.KEY_PREFIX);
      assert.equal(config.redisUrl, 'redis://redis:6379/0');
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
    ['a digest that is not one', ['--set', 'image.digest=latest'], /\/image\/digest/],
    ['a bad Lease name', ['--set', 'leaderElection.leaseName=Beat_A'], /\/leaderElection\/leaseName/],
    [
      'a rule selector with braces',
      ['--set', 'metrics.prometheusRule.selector={job="x"}'],
      /\/metrics\/prometheusRule\/selector/,
    ],
    [
      'an extra mount without a path',
      ['--set', 'extraVolumeMounts[0].name=tls'],
      /\/extraVolumeMounts\/0.*mountPath/,
    ],
    ['an operator id with a space', ['--set', 'operatorId=team a'], /\/operatorId/],
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
