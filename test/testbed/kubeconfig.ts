// Kubeconfig files for the test control plane: one cluster, one user (client certificate or bearer
// token), one context. kubectl, helm and the operator all read them.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export type KubeUser = { name: string; certPem: string; keyPem: string } | { name: string; token: string };

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function kubeconfigYaml(server: string, caPem: string, user: KubeUser): string {
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.certPem), 'client-key-data': b64(user.keyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'testbed', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user.name, user: credentials }],
    contexts: [{ name: user.name, context: { cluster: 'testbed', user: user.name } }],
    'current-context': user.name,
  });
}

export async function writeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: KubeUser,
): Promise<void> {
  await writeFile(path, kubeconfigYaml(server, caPem, user), { mode: 0o600 });
}
