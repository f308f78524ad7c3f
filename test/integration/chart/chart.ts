// Paths and helpers shared by the chart tests: rendering with the pinned helm, splitting the output into
// documents, and the CRD text the chart must carry unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries } from '../../testbed/binaries.ts';
import { CommandError, runCommand } from '../../testbed/command.ts';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const chartDir = join(repoRoot, 'charts', 'celerybeat-operator');
export const crdFile = join(repoRoot, 'crds', 'celerybeat.io_periodictasks.yaml');
export const chartCrdFile = join(chartDir, 'files', 'crds', 'celerybeat.io_periodictasks.yaml');
export const operatorRbacFixture = join(repoRoot, 'test', 'fixtures', 'kube', 'operator-rbac.yaml');
export const crdTemplateSource = 'celerybeat-operator/templates/crds/periodictasks.yaml';
const keepLine = '    helm.sh/resource-policy: keep\n';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** One rendered document: its template, its raw text (without the `# Source:` line), and the object. */
export interface Rendered {
  source: string;
  text: string;
  object: KubeObject;
}

export async function helm(args: readonly string[]): Promise<string> {
  return runCommand(join(await ensureBinaries(), 'helm'), args);
}

/** Helm's error text for args that must fail (a schema or `fail` message), or an error if they succeed. */
export async function helmError(args: readonly string[]): Promise<string> {
  try {
    await helm(args);
  } catch (err) {
    if (err instanceof CommandError) return err.stderr;
    throw err;
  }
  throw new Error(`helm ${args.join(' ')} succeeded but was expected to fail`);
}

export function splitManifest(manifest: string): Rendered[] {
  const rendered: Rendered[] = [];
  for (const chunk of manifest.split(/^---\n/m)) {
    const match = /^# Source: (\S+)\n/.exec(chunk);
    if (!match?.[1]) continue;
    const text = chunk.slice(match[0].length);
    const docs = parseAllDocuments(text);
    for (const doc of docs) {
      if (doc.errors.length > 0)
        throw new Error(`${match[1]} renders invalid YAML: ${doc.errors[0]?.message}`);
      const object = doc.toJS() as KubeObject | null;
      if (object) rendered.push({ source: match[1], text, object });
    }
  }
  return rendered;
}

export async function render(args: readonly string[] = []): Promise<Rendered[]> {
  return splitManifest(await helm(['template', 'beat', chartDir, '--namespace', 'ops', ...args]));
}

export function find(rendered: Rendered[], kind: string, name?: string): KubeObject {
  const hit = rendered.find(
    (r) => r.object.kind === kind && (name === undefined || r.object.metadata.name === name),
  );
  if (!hit) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered`);
  return hit.object;
}

export function readCrd(): string {
  return readFileSync(crdFile, 'utf8');
}

/** The CRD text as the chart renders it, less the keep annotation the chart adds (under the file's own
 * `annotations:` if it has one, else in an `annotations:` block of its own). */
export function withoutKeepAnnotation(rendered: string, original: string): string {
  const added = original.includes('\n  annotations:\n') ? keepLine : `  annotations:\n${keepLine}`;
  return rendered.replace(added, '');
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/** A (Cluster)Role's rules as sorted `group/resource[/name]:verb` grants, so equal permissions compare equal
 * however the rules are grouped. */
export function permissions(role: KubeObject): string[] {
  const grants = new Set<string>();
  for (const rule of (role.rules ?? []) as PolicyRule[]) {
    for (const group of rule.apiGroups ?? [])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs ?? [])
          for (const name of rule.resourceNames ?? ['*']) grants.add(`${group}/${resource}/${name}:${verb}`);
  }
  return [...grants].sort();
}
