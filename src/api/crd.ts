// Builds the PeriodicTask and PeriodicTaskPolicy CustomResourceDefinitions from their schema trees (see
// scripts/generate-crd.ts).

import { periodicTaskSchema } from './periodic-task-schema.ts';
import { periodicTaskPolicySchema } from './policy-schema.ts';
import type { ObjectNode, SchemaNode } from './schema-types.ts';
import { GROUP, KIND, PLURAL, POLICY_KIND, POLICY_PLURAL, VERSION } from './types.ts';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The OpenAPI v3 (structural) form of one schema node, as the API server expects it. */
export function toOpenApi(node: SchemaNode): { [key: string]: Json } {
  const out: { [key: string]: Json } = { description: node.description };
  switch (node.kind) {
    case 'string':
      out.type = 'string';
      if (node.enum) out.enum = [...node.enum];
      if (node.default !== undefined) out.default = node.default;
      if (node.minLength !== undefined) out.minLength = node.minLength;
      out.maxLength = node.maxLength;
      break;
    case 'integer':
      out.type = 'integer';
      out.format = node.format;
      if (node.minimum !== undefined) out.minimum = node.minimum;
      if (node.maximum !== undefined) out.maximum = node.maximum;
      break;
    case 'number':
      out.type = 'number';
      if (node.minimum !== undefined) out.minimum = node.minimum;
      if (node.exclusiveMinimum !== undefined) {
        out.minimum = node.exclusiveMinimum;
        out.exclusiveMinimum = true;
      }
      if (node.maximum !== undefined) out.maximum = node.maximum;
      break;
    case 'boolean':
      out.type = 'boolean';
      if (node.default !== undefined) out.default = node.default;
      break;
    case 'object':
      out.type = 'object';
      if (node.required?.length) out.required = [...node.required];
      out.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toOpenApi(v)]));
      break;
    case 'freeObject':
      out.type = 'object';
      out['x-kubernetes-preserve-unknown-fields'] = true;
      break;
    case 'array':
      out.type = 'array';
      out.items = toOpenApi(node.items);
      if (node.maxItems !== undefined) out.maxItems = node.maxItems;
      if (node.mapKey !== undefined) {
        out['x-kubernetes-list-type'] = 'map';
        out['x-kubernetes-list-map-keys'] = [node.mapKey];
      }
      break;
    case 'any':
      out['x-kubernetes-preserve-unknown-fields'] = true;
      break;
  }
  const rules = node.kind === 'string' || node.kind === 'object' ? node.rules : undefined;
  if (rules?.length) {
    out['x-kubernetes-validations'] = rules.map((r) => {
      const v: { [key: string]: Json } = { rule: r.rule, message: r.message };
      if (r.fieldPath !== undefined) v.fieldPath = r.fieldPath;
      return v;
    });
  }
  return out;
}

const PRINTER_COLUMNS: Json[] = [
  { name: 'Task', type: 'string', jsonPath: '.spec.task', description: 'Celery task name' },
  {
    name: 'Schedule',
    type: 'string',
    jsonPath: '.status.schedule',
    description: 'The schedule in words; "invalid" when the spec is invalid',
  },
  { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled', description: 'Whether the task runs' },
  // A broken task must show in the plain listing, not only in -o yaml or describe.
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'True while the task is scheduled',
  },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description:
      'Why it is (not) ready: Scheduled, InvalidSpec, PolicyViolation, BrokerSecretUnavailable, Disabled, Completed, StoreUnavailable…',
  },
  { name: 'Last Run', type: 'date', jsonPath: '.status.lastRunAt', description: 'Slot of the last run' },
  // A string, not a date: kubectl prints future dates as "<invalid>".
  { name: 'Next Run', type: 'string', jsonPath: '.status.nextRunAt', description: 'The next slot (UTC)' },
  { name: 'Runs', type: 'integer', jsonPath: '.status.totalRunCount', description: 'Runs published' },
  {
    name: 'Last Result',
    type: 'string',
    jsonPath: '.status.lastResult.state',
    description: 'Celery state of the last run with a result (--result-backend)',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The top level: the standard object fields, then spec (and status) from the schema tree. */
function rootSchema(schema: ObjectNode, kind: string): { [key: string]: Json } {
  const root = toOpenApi(schema);
  const properties = root.properties as { [key: string]: Json };
  root.properties = {
    apiVersion: { type: 'string', description: 'celerybeat.io/v1alpha1' },
    kind: { type: 'string', description: kind },
    metadata: { type: 'object' },
    ...properties,
  };
  return root;
}

export function periodicTaskCrd(): { [key: string]: Json } {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: ['pt'],
        categories: ['celery'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema(periodicTaskSchema, KIND) },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}

const POLICY_COLUMNS: Json[] = [
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Enforce or Warn' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** Cluster-scoped, with no status: the operator reports on the PeriodicTasks a policy governs. */
export function periodicTaskPolicyCrd(): { [key: string]: Json } {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POLICY_PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: POLICY_KIND,
        listKind: `${POLICY_KIND}List`,
        plural: POLICY_PLURAL,
        singular: POLICY_KIND.toLowerCase(),
        shortNames: ['ptp'],
        categories: ['celery'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema(periodicTaskPolicySchema, POLICY_KIND) },
          additionalPrinterColumns: POLICY_COLUMNS,
        },
      ],
    },
  };
}
