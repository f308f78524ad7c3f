// Interprets the schema tree the way the API server applies a structural schema: types, required fields,
// unknown fields (kubectl's strict field validation), bounds, enums and the CEL rules' TypeScript twins.
// Messages follow the API server's wording, so a file and `kubectl apply` report the same problem.

import { isPlainObject } from './plain-object.ts';
import type { ObjectNode, SchemaNode } from './schema-types.ts';
import type { FieldError } from './types.ts';

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Checks `value` (never null or undefined) against `node`; appends problems to `errors`. */
export function checkNode(node: SchemaNode, value: unknown, path: string, errors: FieldError[]): void {
  const before = errors.length;
  const wrongType = (expected: string): void => {
    errors.push({ field: path, message: `Invalid value: "${typeName(value)}": must be of type ${expected}` });
  };
  switch (node.kind) {
    case 'string': {
      if (typeof value !== 'string') {
        wrongType('string');
        return;
      }
      if (node.enum && !node.enum.includes(value)) {
        const allowed = node.enum.map((v) => JSON.stringify(v)).join(', ');
        errors.push({
          field: path,
          message: `Unsupported value: ${show(value)}: supported values: ${allowed}`,
        });
        return;
      }
      if (node.minLength !== undefined && value.length < node.minLength) {
        errors.push({
          field: path,
          message: `Invalid value: ${show(value)}: should be at least ${node.minLength} chars long`,
        });
      }
      if (value.length > node.maxLength) {
        errors.push({ field: path, message: `Too long: may not be more than ${node.maxLength} bytes` });
      }
      if (errors.length === before) {
        for (const r of node.rules ?? []) {
          if (!r.holds(value))
            errors.push({ field: path, message: `Invalid value: ${show(value)}: ${r.message}` });
        }
      }
      return;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        wrongType(node.kind);
        return;
      }
      if (node.kind === 'integer' && !Number.isSafeInteger(value)) {
        wrongType('integer');
        return;
      }
      const min = node.minimum;
      if (min !== undefined && value < min) {
        errors.push({
          field: path,
          message: `Invalid value: ${value}: should be greater than or equal to ${min}`,
        });
      }
      if (node.kind === 'number' && node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) {
        errors.push({
          field: path,
          message: `Invalid value: ${value}: should be greater than ${node.exclusiveMinimum}`,
        });
      }
      if (node.maximum !== undefined && value > node.maximum) {
        errors.push({
          field: path,
          message: `Invalid value: ${value}: should be less than or equal to ${node.maximum}`,
        });
      }
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') wrongType('boolean');
      return;
    case 'freeObject':
      if (!isPlainObject(value)) wrongType('object');
      return;
    case 'any':
      return;
    case 'array':
      if (!Array.isArray(value)) {
        wrongType('array');
        return;
      }
      if (node.maxItems !== undefined && value.length > node.maxItems) {
        errors.push({
          field: path,
          message: `Too many: ${value.length}: must have at most ${node.maxItems} items`,
        });
      }
      value.forEach((item, i) => {
        if (item !== null) checkNode(node.items, item, `${path}[${i}]`, errors);
      });
      return;
    case 'object':
      if (!isPlainObject(value)) {
        wrongType('object');
        return;
      }
      checkObject(node, value, path, errors);
  }
}

function checkObject(
  node: ObjectNode,
  value: Record<string, unknown>,
  path: string,
  errors: FieldError[],
): void {
  const before = errors.length;
  for (const name of node.required ?? []) {
    if (value[name] === undefined || value[name] === null)
      errors.push({ field: `${path}.${name}`, message: 'Required value' });
  }
  for (const [name, child] of Object.entries(value)) {
    const childNode = node.properties[name];
    if (!childNode) errors.push({ field: `${path}.${name}`, message: 'unknown field' });
    else if (child !== null && child !== undefined) checkNode(childNode, child, `${path}.${name}`, errors);
  }
  // The API server evaluates a CEL rule only on a value that passed its schema.
  if (errors.length !== before) return;
  for (const r of node.rules ?? []) {
    if (!r.holds(value)) {
      const field = r.fieldPath ? `${path}${r.fieldPath}` : path;
      errors.push({ field, message: `Invalid value: ${r.message}` });
    }
  }
}
