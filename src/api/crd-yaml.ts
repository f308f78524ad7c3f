// The CRD files' exact text, so the generator and the drift test produce the same bytes.
import { stringify } from 'yaml';
import { periodicTaskCrd, periodicTaskPolicyCrd } from './crd.ts';

const header = (schema: string): string =>
  `# Generated from src/api/${schema} by "npm run generate:crd". Do not edit by hand.\n`;

export function renderCrdYaml(): string {
  return header('periodic-task-schema.ts') + stringify(periodicTaskCrd(), { lineWidth: 0 });
}

export function renderPolicyCrdYaml(): string {
  return header('policy-schema.ts') + stringify(periodicTaskPolicyCrd(), { lineWidth: 0 });
}
