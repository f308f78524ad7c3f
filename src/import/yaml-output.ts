// The import's stdout: one YAML document per PeriodicTask, in the order of the source. Written as YAML 1.1,
// the version kubectl and the manifest reader parse, so a string that 1.1 would read as something else (an
// RFC 3339 time in an annotation, "yes", "1:30") is quoted.
import { stringify } from 'yaml';
import type { PeriodicTask } from '../api/types.ts';

export function manifestsYaml(documents: readonly PeriodicTask[]): string {
  return documents
    .map((doc) => `---\n${stringify(doc, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join('');
}
