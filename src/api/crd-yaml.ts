// The CRD file's exact text, so the generator and the drift test produce the same bytes.
import { stringify } from 'yaml';
import { periodicTaskCrd } from './crd.ts';

const HEADER = `# Generated from src/api/periodic-task-schema.ts by "npm run generate:crd". Do not edit by hand.
`;

export function renderCrdYaml(): string {
  return HEADER + stringify(periodicTaskCrd(), { lineWidth: 0 });
}
