// An operator deployment on the test bed, as the Helm chart makes it: a namespace, the chart's
// ServiceAccount with exactly the chart's RBAC (test/fixtures/kube/operator-rbac.yaml), and a kubeconfig
// holding that ServiceAccount's token. The operator runs with nothing more than those permissions.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import type { ClusterHandle } from '../testbed/cluster.ts';
import { type OperatorProcess, startOperator } from './operator-process.ts';

const CRD_FILE = new URL('../../crds/celerybeat.io_periodictasks.yaml', import.meta.url);
const RBAC_FILE = new URL('../fixtures/kube/operator-rbac.yaml', import.meta.url);

export interface OperatorNamespace {
  namespace: string;
  /** Kubeconfig of the operator's ServiceAccount. */
  kubeconfig: string;
}

export async function installCrd(cluster: ClusterHandle): Promise<void> {
  await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: await readFile(CRD_FILE, 'utf8'),
  });
  await cluster.crdEstablished('periodictasks.celerybeat.io');
}

export async function operatorNamespace(cluster: ClusterHandle, prefix: string): Promise<OperatorNamespace> {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `${prefix}-${suffix}`;
  await installCrd(cluster);
  await cluster.kubectl(['create', 'namespace', namespace]);
  const rbac = (await readFile(RBAC_FILE, 'utf8'))
    .replaceAll('OPERATOR_NAMESPACE', namespace)
    .replaceAll('NAME_SUFFIX', suffix);
  await cluster.kubectl(['apply', '-f', '-'], { input: rbac });
  const kubeconfig = await cluster.serviceAccountKubeConfig(namespace, 'celerybeat-operator');
  return { namespace, kubeconfig };
}

/** A PeriodicTask manifest as JSON (kubectl reads JSON as YAML). */
export function periodicTask(namespace: string, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name, namespace },
    spec: { task: 'tasks.record', ...spec },
  });
}

/** Applies `count` PeriodicTasks (hourly, so they write little status) in one kubectl call. */
export async function applyManyTasks(
  cluster: ClusterHandle,
  namespace: string,
  count: number,
): Promise<void> {
  const items = Array.from({ length: count }, (_, i) =>
    JSON.parse(periodicTask(namespace, `many-${i}`, { interval: { every: 1, period: 'hours' }, args: [i] })),
  );
  await cluster.kubectl(['apply', '--server-side', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  });
}

/** How many PeriodicTasks of the namespace have a status written for their current generation. */
export async function tasksWithStatus(cluster: ClusterHandle, namespace: string): Promise<number> {
  const list = JSON.parse(await cluster.kubectl(['get', 'pt', '-n', namespace, '-o', 'json'])) as {
    items: Array<{ metadata: { generation?: number }; status?: { observedGeneration?: number } }>;
  };
  return list.items.filter((t) => t.status?.observedGeneration === t.metadata.generation).length;
}

/** The operator as the chart runs it: the namespace's ServiceAccount, watching that namespace, its Lease there. */
export function startClusterOperator(
  ns: OperatorNamespace,
  redisUrl: string,
  extraArgs: readonly string[] = [],
): OperatorProcess {
  return startOperator(
    ['--kubeconfig', ns.kubeconfig, '--namespace', ns.namespace, '--redis-url', redisUrl, ...extraArgs],
    { POD_NAMESPACE: ns.namespace },
  );
}

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string } }>;
}

/** The port of the API server a kubeconfig names. */
export async function apiServerPort(kubeconfig: string): Promise<number> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as Kubeconfig;
  return Number(new URL(config.clusters[0]!.cluster.server).port);
}

/** The same kubeconfig with the API server reached through `port` (TLS passes a relay untouched). */
export async function throughPort(kubeconfig: string, port: number): Promise<string> {
  const config = parse(await readFile(kubeconfig, 'utf8')) as Kubeconfig;
  for (const { cluster } of config.clusters) {
    const server = new URL(cluster.server);
    server.port = String(port);
    cluster.server = server.origin;
  }
  const path = `${kubeconfig}.relayed`;
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
