// The committed CRD is exactly what the schema in src/api generates, and it has the shape the design asks for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCrdYaml, renderPolicyCrdYaml } from '../../../src/api/crd-yaml.ts';

const committed = readFileSync(
  new URL('../../../crds/celerybeat.io_periodictasks.yaml', import.meta.url),
  'utf8',
);

interface OpenApi {
  description?: string;
  type?: string;
  properties?: Record<string, OpenApi>;
  items?: OpenApi;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  required?: string[];
}

const crd = parse(committed);
const version = crd.spec.versions[0];
const root: OpenApi = version.schema.openAPIV3Schema;
const spec = root.properties!.spec!;

test('crds/celerybeat.io_periodictasks.yaml is generated from src/api (npm run generate:crd)', () => {
  assert.equal(committed, renderCrdYaml());
});

test('names, scope, status subresource and printer columns', () => {
  assert.equal(crd.metadata.name, 'periodictasks.celerybeat.io');
  assert.deepEqual(crd.spec.names.shortNames, ['pt']);
  assert.deepEqual(crd.spec.names.categories, ['celery']);
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(version.subresources, { status: {} });
  assert.deepEqual(
    version.additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase()),
    ['TASK', 'SCHEDULE', 'ENABLED', 'READY', 'REASON', 'LAST RUN', 'NEXT RUN', 'RUNS', 'LAST RESULT', 'AGE'],
  );
  assert.equal(crd.spec.preserveUnknownFields, undefined);
  assert.equal(crd.status, undefined);
});

test('every spec and status field has a description', () => {
  const missing: string[] = [];
  const walk = (node: OpenApi, path: string): void => {
    if (!node.description) missing.push(path);
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`);
    if (node.items) walk(node.items, `${path}[]`);
  };
  walk(spec, 'spec');
  walk(root.properties!.status!, 'status');
  assert.deepEqual(missing, []);
});

test('arbitrary JSON is kept for args, kwargs and headers; conditions are a map list keyed by type', () => {
  assert.equal(spec.properties!.args!.items!['x-kubernetes-preserve-unknown-fields'], true);
  assert.equal(spec.properties!.kwargs!['x-kubernetes-preserve-unknown-fields'], true);
  assert.equal(spec.properties!.options!.properties!.headers!['x-kubernetes-preserve-unknown-fields'], true);
  const conditions = root.properties!.status!.properties!.conditions!;
  assert.equal(conditions['x-kubernetes-list-type'], 'map');
  assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);
});

test('CEL rules carry a message naming the field', () => {
  const rules = spec['x-kubernetes-validations']!;
  assert.match(rules[0]!.rule, /exists_one/);
  assert.match(
    rules[0]!.message,
    /spec\.interval, spec\.crontab, spec\.cron, spec\.clocked, spec\.solar or spec\.schedules/,
  );
});

test('crds/celerybeat.io_periodictaskpolicies.yaml is generated from src/api: cluster-scoped, no status', () => {
  const text = readFileSync(
    new URL('../../../crds/celerybeat.io_periodictaskpolicies.yaml', import.meta.url),
    'utf8',
  );
  assert.equal(text, renderPolicyCrdYaml());
  const policy = parse(text);
  assert.equal(policy.metadata.name, 'periodictaskpolicies.celerybeat.io');
  assert.equal(policy.spec.scope, 'Cluster');
  assert.equal(policy.spec.versions[0].subresources, undefined);
  const policySpec: OpenApi = policy.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  assert.deepEqual(
    Object.keys(policySpec.properties!).filter((k) => k !== 'namespaceSelector' && k !== 'mode'),
    [
      'allowedTaskNames',
      'deniedTaskNames',
      'allowedQueues',
      'allowedExchanges',
      'allowedRoutingKeys',
      'maxPriority',
      'allowedHeaders',
      'maxArgsBytes',
      'maxKwargsBytes',
      'maxHeadersBytes',
      'maxJsonDepth',
      'minIntervalSeconds',
      'allowRunNow',
      'maxBackfillSlots',
      'maxRunsPerSecond',
      'allowReplace',
      'broker',
    ],
  );
  // A broker is named by a Secret key only: the URL itself (a password) never sits in a policy.
  assert.deepEqual(policySpec.properties!.broker!.required, ['secretKeyRef']);
});
