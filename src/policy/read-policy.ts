// A PeriodicTaskPolicy object as read from the API server or a manifest file, checked against the schema its
// CRD is generated from (src/api/policy-schema.ts), so a file is held to what `kubectl apply` would accept.
import { isPlainObject } from '../api/plain-object.ts';
import { policySpecSchema } from '../api/policy-schema.ts';
import { checkNode } from '../api/schema-check.ts';
import { API_VERSION, type FieldError, type PeriodicTaskPolicy, POLICY_KIND } from '../api/types.ts';

export type PolicyReading = { ok: true; policy: PeriodicTaskPolicy } | { ok: false; errors: FieldError[] };

export function readPolicy(obj: unknown): PolicyReading {
  if (!isPlainObject(obj))
    return { ok: false, errors: [{ field: '', message: 'a PeriodicTaskPolicy must be an object' }] };
  const errors: FieldError[] = [];
  if (obj.apiVersion !== API_VERSION)
    errors.push({ field: 'apiVersion', message: `Unsupported value: supported values: "${API_VERSION}"` });
  if (obj.kind !== POLICY_KIND)
    errors.push({ field: 'kind', message: `Unsupported value: supported values: "${POLICY_KIND}"` });
  const meta = obj.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || meta.name === '')
    errors.push({ field: 'metadata.name', message: 'Required value: name is required' });
  if (obj.spec === undefined || obj.spec === null) errors.push({ field: 'spec', message: 'Required value' });
  else checkNode(policySpecSchema, obj.spec, 'spec', errors);
  const labels =
    isPlainObject(obj.spec) && isPlainObject(obj.spec.namespaceSelector)
      ? obj.spec.namespaceSelector.matchLabels
      : undefined;
  if (isPlainObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string')
        errors.push({
          field: `spec.namespaceSelector.matchLabels.${key}`,
          message: 'Invalid value: must be a string',
        });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, policy: obj as unknown as PeriodicTaskPolicy };
}
