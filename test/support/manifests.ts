// Temporary manifest directories for standalone-mode tests.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface ManifestDir {
  readonly path: string;
  write(file: string, ...documents: unknown[]): Promise<void>;
  writeRaw(file: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

export async function manifestDir(): Promise<ManifestDir> {
  const path = await mkdtemp(join(tmpdir(), 'celerybeat-manifests-'));
  return {
    path,
    write: (file, ...documents) =>
      writeFile(join(path, file), documents.map((d) => stringify(d)).join('---\n')),
    writeRaw: (file, text) => writeFile(join(path, file), text),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** A PeriodicTask manifest with an interval schedule. */
export function intervalTask(
  name: string,
  every: number,
  spec: Record<string, unknown> = {},
  namespace = 'default',
): Record<string, unknown> {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace },
    spec: { task: 'tasks.record', interval: { every, period: 'seconds' }, ...spec },
  };
}
