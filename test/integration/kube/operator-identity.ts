// Shared setup of the kube integration tests: the product CRD, a namespace per test file, and a kubeconfig
// for the operator's ServiceAccount bound only to test/fixtures/kube/operator-rbac.yaml.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../../../src/kube/kube-client.ts';
import { loadKubeConnection } from '../../../src/kube/kube-connection.ts';
import { createLogger, type Logger } from '../../../src/observe/logger.ts';
import type { ClusterHandle } from '../../testbed/cluster.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CRD_PATH = join(ROOT, 'crds', 'celerybeat.io_periodictasks.yaml');
const RBAC_PATH = join(ROOT, 'test', 'fixtures', 'kube', 'operator-rbac.yaml');

export interface OperatorIdentity {
  namespace: string;
  kubeconfigPath: string;
  /** An API client as that ServiceAccount. */
  api: KubeClient;
  /** Removes the namespace and the cluster-scoped RBAC objects. */
  cleanup(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Applies the CRD (idempotent) and waits until the API server serves it. */
export async function installCrd(cluster: ClusterHandle): Promise<void> {
  await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_PATH]);
  await cluster.crdEstablished('periodictasks.celerybeat.io');
}

/** A fresh namespace with the operator's ServiceAccount and RBAC, and a kubeconfig for that identity. */
export async function operatorIdentity(cluster: ClusterHandle, prefix: string): Promise<OperatorIdentity> {
  await installCrd(cluster);
  const namespace = uniqueName(prefix);
  const suffix = namespace;
  await cluster.kubectl(['create', 'namespace', namespace]);
  const rbac = (await readFile(RBAC_PATH, 'utf8'))
    .replaceAll('OPERATOR_NAMESPACE', namespace)
    .replaceAll('NAME_SUFFIX', suffix);
  await cluster.kubectl(['apply', '-f', '-'], { input: rbac });
  const kubeconfigPath = await cluster.serviceAccountKubeConfig(namespace, 'celerybeat-operator');
  return {
    namespace,
    kubeconfigPath,
    api: new KubeClient(loadKubeConnection({ kubeconfig: kubeconfigPath })),
    async cleanup() {
      await cluster.kubectl([
        'delete',
        `clusterrole/celerybeat-operator-${suffix}`,
        `clusterrolebinding/celerybeat-operator-${suffix}`,
        '--ignore-not-found',
      ]);
      await cluster.kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
    },
  };
}

export function testLogger(): Logger {
  return createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
}

export function periodicTaskYaml(namespace: string, name: string, every = 30): string {
  return [
    'apiVersion: celerybeat.io/v1alpha1',
    'kind: PeriodicTask',
    `metadata: {name: ${name}, namespace: ${namespace}}`,
    `spec: {task: tasks.add, interval: {every: ${every}, period: seconds}, args: [1, 2]}`,
    '',
  ].join('\n');
}

/** Polls `condition` every 100 ms until it is truthy or `timeoutMs` passes. */
export async function eventually<T>(
  condition: () => T,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<Awaited<T>>;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
