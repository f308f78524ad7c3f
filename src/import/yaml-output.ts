// The import's stdout: one YAML document per PeriodicTask, in the order of the source.
import { stringify } from 'yaml';
import type { PeriodicTask } from '../api/types.ts';

export function manifestsYaml(documents: readonly PeriodicTask[]): string {
  return documents
    .map((doc) => `---\n${stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join('');
}
