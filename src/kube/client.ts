// Where the API server is: --kubeconfig (or KUBECONFIG), else the pod's service account, else ~/.kube/config.
// client-node's loadFromDefault prefers ~/.kube/config over in-cluster and silently falls back to
// http://localhost:8080 when nothing is found; the operator wants the documented order and a clear error.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function loadFiles(kc: KubeConfig, files: string[], origin: string): void {
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`kubeconfig ${file} (from ${origin}) does not exist`);
  }
  try {
    kc.loadFromFile(files[0] ?? '');
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } catch (error) {
    throw new Error(
      `cannot read kubeconfig ${files.join(delimiter)} (from ${origin}): ${(error as Error).message}`,
    );
  }
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = process.env.KUBECONFIG?.split(delimiter).filter((file) => file !== '') ?? [];
  const home = join(homedir(), '.kube', 'config');
  if (path !== undefined && path !== '') {
    loadFiles(kc, [path], '--kubeconfig');
  } else if (fromEnv.length > 0) {
    loadFiles(kc, fromEnv, 'KUBECONFIG');
  } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) {
    kc.loadFromCluster();
  } else if (existsSync(home)) {
    loadFiles(kc, [home], 'the default location');
  } else {
    throw new Error(
      'no Kubernetes API server configured: pass --kubeconfig or set KUBECONFIG, run in a pod with a ' +
        `service account, or create ${home} (or use --manifests DIR for standalone mode)`,
    );
  }
  const context = kc.getCurrentContext();
  if (!kc.getCurrentCluster()) {
    throw new Error(`kubeconfig current context "${context}" names no cluster`);
  }
  return kc;
}

/** The namespace the operator runs in (its Lease lives there): POD_NAMESPACE, else the context's, else default. */
export function operatorNamespace(kc: KubeConfig): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}
