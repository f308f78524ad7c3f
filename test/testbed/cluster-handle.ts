// What a test gets for a control plane: its admin kubeconfig, kubectl and helm bound to it, and
// kubeconfigs for non-admin identities (a client certificate, or a ServiceAccount token from the
// TokenRequest API) whose requests RBAC really authorizes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CommandOptions, runCommand } from './command.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { issueClientCert, pkiPaths } from './pki.ts';

export interface ClusterHandle {
  readonly dir: string;
  /** Directory of the pinned etcd, kube-apiserver, kubectl and helm binaries. */
  readonly binDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfigPath: string;
  /** CA that signed the serving certificate and all client certificates. */
  readonly caPath: string;
  /** Runs kubectl as admin (or with `--kubeconfig` given in args); resolves stdout, rejects with CommandError. */
  kubectl(args: readonly string[], options?: CommandOptions): Promise<string>;
  /**
   * Waits until the API server serves the CRD `name` (condition Established). Polls rather than `kubectl wait`,
   * which fails instead of waiting while a CRD just created has no conditions yet.
   */
  crdEstablished(name: string, timeoutMs?: number): Promise<void>;
  /** Runs helm as admin with its cache/config/data kept inside the control plane directory. */
  helm(args: readonly string[], options?: CommandOptions): Promise<string>;
  /** Writes a kubeconfig for user `user` in `groups` (client certificate) and returns its path. */
  clientCertKubeConfig(user: string, groups?: readonly string[]): Promise<string>;
  /** Writes a kubeconfig with a TokenRequest token of an existing ServiceAccount and returns its path. */
  serviceAccountKubeConfig(
    namespace: string,
    serviceAccount: string,
    expirationSeconds?: number,
  ): Promise<string>;
}

const hasKubeconfigFlag = (args: readonly string[]): boolean =>
  args.some((a) => a === '--kubeconfig' || a.startsWith('--kubeconfig='));

export function clusterHandle(dir: string, binDir: string, server: string): ClusterHandle {
  const kubeconfigPath = join(dir, 'kubeconfig');
  const pki = pkiPaths(join(dir, 'pki'));
  const usersDir = join(dir, 'users');
  const userKubeconfig = async (name: string): Promise<string> => {
    await mkdir(usersDir, { recursive: true });
    return join(
      usersDir,
      `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}.kubeconfig`,
    );
  };
  const kubectl = (args: readonly string[], options: CommandOptions = {}): Promise<string> =>
    runCommand(
      join(binDir, 'kubectl'),
      hasKubeconfigFlag(args) ? args : ['--kubeconfig', kubeconfigPath, ...args],
      options,
    );
  return {
    dir,
    binDir,
    server,
    kubeconfigPath,
    caPath: pki.caCert,
    kubectl,
    async crdEstablished(name, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const jsonPath = '{.status.conditions[?(@.type=="Established")].status}';
      for (;;) {
        const status = await kubectl(['get', 'crd', name, '-o', `jsonpath=${jsonPath}`]).catch(() => '');
        if (status.trim() === 'True') return;
        if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    helm(args, options = {}) {
      const helmHome = join(dir, 'helm');
      const env = {
        ...process.env,
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_DATA_HOME: join(helmHome, 'data'),
        ...options.env,
      };
      const fullArgs = hasKubeconfigFlag(args) ? args : ['--kubeconfig', kubeconfigPath, ...args];
      return runCommand(join(binDir, 'helm'), fullArgs, { ...options, env });
    },
    async clientCertKubeConfig(user, groups = []) {
      const cert = await issueClientCert(pki, user, groups);
      const path = await userKubeconfig(user);
      await writeKubeconfig(path, server, await readFile(pki.caCert, 'utf8'), { name: user, ...cert });
      return path;
    },
    async serviceAccountKubeConfig(namespace, serviceAccount, expirationSeconds = 3600) {
      // `kubectl create token` is the TokenRequest API (POST .../serviceaccounts/<name>/token).
      const token = (
        await kubectl([
          'create',
          'token',
          serviceAccount,
          '-n',
          namespace,
          `--duration=${expirationSeconds}s`,
        ])
      ).trim();
      const name = `system:serviceaccount:${namespace}:${serviceAccount}`;
      const path = await userKubeconfig(`sa-${namespace}-${serviceAccount}`);
      await writeKubeconfig(path, server, await readFile(pki.caCert, 'utf8'), { name, token });
      return path;
    },
  };
}
