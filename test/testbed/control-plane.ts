// A real Kubernetes control plane for tests: etcd + kube-apiserver (pinned, built from Go modules) on random
// loopback ports, with generated certificates, RBAC authorization and an admin kubeconfig. Everything lives
// in one directory whose state.json records ports and pids, so another process can use the same control
// plane (attachControlPlane) or stop it (`testbed down`). With `withNode` it also runs a node (node/node.ts):
// the API server then listens on the host end of the node's veth pair instead of loopback, so the kubelet
// and the pods reach it, and admits pods as a cluster does (ServiceAccount, NodeRestriction, Node authorizer).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from '../support/ports.ts';
import { registerExitCleanup } from '../support/process.ts';
import { ensureBinaries } from './binaries.ts';
import { type ClusterHandle, clusterHandle } from './cluster-handle.ts';
import { isRunning, spawnDaemon, stopDaemon } from './daemon.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createNodeNetwork, deleteNodeNetwork, type NodeNetwork } from './node/network.ts';
import { type NodeState, startNode, stopNode } from './node/node.ts';
import { nodeSupport } from './node/support.ts';
import { createPki, issueClientCert, type Pki, pkiPaths } from './pki.ts';
import { apiServerReady, etcdHealthy } from './probe.ts';

export interface ControlPlane extends ClusterHandle {
  /** The node, when started with `withNode`. */
  readonly node: NodeState | undefined;
  /** Stops kube-apiserver and starts it again on the same port and etcd (data survives). */
  restartApiServer(): Promise<void>;
  /** Stops both processes and removes the files of the control plane. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Directory for certificates, etcd data, logs, kubeconfig and state.json; default a new temp dir. */
  dir?: string;
  binDir?: string;
  /** Keep the processes running after this Node process exits (`testbed up`). */
  survive?: boolean;
  /** Also run a node: containerd, kubelet, kube-proxy, controller manager and scheduler. */
  withNode?: boolean;
}

const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
/** How pods reach the API server: the `kubernetes` Service's ClusterIP and its DNS names. */
const IN_CLUSTER_SANS = [
  'IP:10.0.0.1',
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

interface State {
  binDir: string;
  server: string;
  apiPort: number;
  etcdPort: number;
  etcdPeerPort: number;
  pids: { etcd: number; apiserver: number };
  /** The node's network, when there is a node: the API server listens on its host address. */
  nodeNetwork?: NodeNetwork;
  /** Whether the directory was created for this control plane (then stop() removes it entirely). */
  ownsDir: boolean;
}

/** The files a control plane writes into its directory (removed by stop() when the directory was given). */
const OWN_ENTRIES = [
  'pki',
  'etcd',
  'users',
  'helm',
  'kubeconfig',
  'state.json',
  'etcd.log',
  'kube-apiserver.log',
  'node',
];
const ETCD_START_MS = 30_000;
const APISERVER_START_MS = 120_000;

const statePath = (dir: string): string => join(dir, 'state.json');

async function readState(dir: string): Promise<State> {
  try {
    return JSON.parse(await readFile(statePath(dir), 'utf8')) as State;
  } catch (err) {
    throw new Error(`no test control plane in ${dir} (reading state.json: ${(err as Error).message})`);
  }
}

function tailOf(file: string): Promise<string> {
  return readFile(file, 'utf8').then(
    (t) => t.split('\n').slice(-25).join('\n'),
    () => '(no log)',
  );
}

/** A non-loopback IPv4 address to advertise: kube-apiserver refuses to start without one. */
function advertiseAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

function apiServerArgs(pki: Pki, state: State): string[] {
  const node = state.nodeNetwork;
  const advertise = node?.hostAddress ?? advertiseAddress();
  const admission = node
    ? [
        '--enable-admission-plugins=NodeRestriction',
        `--kubelet-client-certificate=${join(pki.dir, 'admin.crt')}`,
        `--kubelet-client-key=${join(pki.dir, 'admin.key')}`,
        '--kubelet-preferred-address-types=InternalIP',
      ]
    : // No controller-manager creates `default` ServiceAccounts, so this plugin would reject every Pod.
      ['--disable-admission-plugins=ServiceAccount'];
  return [
    `--etcd-servers=http://127.0.0.1:${state.etcdPort}`,
    `--bind-address=${node?.hostAddress ?? '127.0.0.1'}`,
    `--secure-port=${state.apiPort}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    `--service-account-issuer=${state.server}`,
    `--service-account-key-file=${pki.saPublicKey}`,
    `--service-account-signing-key-file=${pki.saPrivateKey}`,
    `--authorization-mode=${node ? 'Node,RBAC' : 'RBAC'}`,
    ...admission,
    '--allow-privileged=true',
    '--profiling=false',
    ...(advertise ? [`--advertise-address=${advertise}`] : []),
  ];
}

async function startEtcd(dir: string, state: State, survive: boolean): Promise<number> {
  const url = `http://127.0.0.1:${state.etcdPort}`;
  const pid = spawnDaemon(
    join(state.binDir, 'etcd'),
    [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=http://127.0.0.1:${state.etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${state.etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${state.etcdPeerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    join(dir, 'etcd.log'),
    { survive },
  );
  try {
    await waitUntil(
      `etcd on ${url}`,
      async () => {
        if (!isRunning(pid)) throw new Error('etcd exited');
        return etcdHealthy(url);
      },
      ETCD_START_MS,
      100,
    );
  } catch (err) {
    await stopDaemon(pid, 1000);
    throw new Error(`${(err as Error).message}\netcd.log:\n${await tailOf(join(dir, 'etcd.log'))}`);
  }
  return pid;
}

async function startApiServer(dir: string, state: State, survive: boolean): Promise<number> {
  const pki = pkiPaths(join(dir, 'pki'));
  const log = join(dir, 'kube-apiserver.log');
  const pid = spawnDaemon(join(state.binDir, 'kube-apiserver'), apiServerArgs(pki, state), log, { survive });
  const admin = join(dir, 'pki', 'admin');
  const tls = {
    ca: await readFile(pki.caCert, 'utf8'),
    cert: await readFile(`${admin}.crt`, 'utf8'),
    key: await readFile(`${admin}.key`, 'utf8'),
  };
  try {
    await waitUntil(
      `kube-apiserver on ${state.server}`,
      async () => {
        if (!isRunning(pid)) throw new Error('kube-apiserver exited');
        return apiServerReady(state.server, tls);
      },
      APISERVER_START_MS,
      200,
    );
  } catch (err) {
    await stopDaemon(pid, 1000);
    throw new Error(`${(err as Error).message}\nkube-apiserver.log:\n${await tailOf(log)}`);
  }
  return pid;
}

async function removeFiles(dir: string, ownsDir: boolean): Promise<void> {
  if (ownsDir) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  for (const entry of OWN_ENTRIES) await rm(join(dir, entry), { recursive: true, force: true });
}

/** Starts etcd and kube-apiserver; resolves once the API server is ready and namespace `default` exists. */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlane> {
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'celerybeat-testbed-')));
  await mkdir(dir, { recursive: true });
  if (existsSync(statePath(dir))) {
    const old = await readState(dir);
    if (isRunning(old.pids.apiserver) || isRunning(old.pids.etcd)) {
      throw new Error(`a test control plane is already running in ${dir} (stop it first)`);
    }
    await removeFiles(dir, false);
  }
  const survive = options.survive ?? false;
  let network: NodeNetwork | undefined;
  const unregister = survive
    ? () => undefined
    : registerExitCleanup(
        () => ownsDir && rmSync(dir, { recursive: true, force: true, maxRetries: 3 }),
        'remove',
      );
  try {
    const binDir = options.binDir ?? (await ensureBinaries());
    let cgroups: 'v1' | 'v2' = 'v2';
    if (options.withNode) {
      const support = nodeSupport(binDir);
      if (!support.ok)
        throw new Error(`this machine cannot run the test bed's node: it lacks ${support.missing}`);
      cgroups = support.cgroups;
      network = await createNodeNetwork(randomBytes(3).toString('hex'));
    }
    const pki = await createPki(
      join(dir, 'pki'),
      network ? [`IP:${network.hostAddress}`, ...IN_CLUSTER_SANS] : [],
    );
    const admin = await issueClientCert(pki, 'admin', ['system:masters']);
    await writeFile(join(pki.dir, 'admin.crt'), admin.certPem);
    await writeFile(join(pki.dir, 'admin.key'), admin.keyPem, { mode: 0o600 });
    // A port taken between freePort() and the server's bind shows up as an early exit: retry with new ones.
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const apiPort = await freePort();
      const state: State = {
        binDir,
        server: `https://${network?.hostAddress ?? '127.0.0.1'}:${apiPort}`,
        apiPort,
        etcdPort: await freePort(),
        etcdPeerPort: await freePort(),
        pids: { etcd: 0, apiserver: 0 },
        ...(network ? { nodeNetwork: network } : {}),
        ownsDir,
      };
      try {
        await rm(join(dir, 'etcd'), { recursive: true, force: true });
        state.pids.etcd = await startEtcd(dir, state, survive);
        try {
          state.pids.apiserver = await startApiServer(dir, state, survive);
        } catch (err) {
          await stopDaemon(state.pids.etcd, 2000);
          throw err;
        }
        await writeKubeconfig(join(dir, 'kubeconfig'), state.server, await readFile(pki.caCert, 'utf8'), {
          name: 'admin',
          ...admin,
        });
        await writeFile(statePath(dir), JSON.stringify(state, null, 2));
        let node: NodeState | undefined;
        if (network) {
          const nodeNetwork = network;
          const stopAtExit = survive
            ? () => undefined
            : registerExitCleanup(() => {
                spawnSync(process.execPath, [join(import.meta.dirname, 'node', 'stop.ts'), dir], {
                  stdio: 'ignore',
                });
              });
          try {
            node = await startNode({
              dir,
              binDir,
              pki,
              server: state.server,
              adminKubeconfig: join(dir, 'kubeconfig'),
              network: nodeNetwork,
              id: nodeNetwork.netns.replace(/^celerybeat-/, ''),
              cgroups,
              serviceClusterIpRange: SERVICE_CLUSTER_IP_RANGE,
              survive,
            });
          } catch (err) {
            await stopNode(dir);
            await stopDaemon(state.pids.apiserver, 10_000);
            await stopDaemon(state.pids.etcd, 10_000);
            stopAtExit();
            throw err;
          }
          const unregisterAll = unregister;
          return controlPlane(
            dir,
            state,
            survive,
            () => {
              stopAtExit();
              unregisterAll();
            },
            node,
          );
        }
        return controlPlane(dir, state, survive, unregister, node);
      } catch (err) {
        lastError = err as Error;
        if (!/address already in use/.test(lastError.message)) break;
      }
    }
    throw lastError ?? new Error('control plane did not start');
  } catch (err) {
    unregister();
    if (network) await deleteNodeNetwork(network);
    // Keep the logs of a failed start in a caller's directory; remove a temp directory.
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw new Error(`starting the test control plane in ${dir}: ${(err as Error).message}`);
  }
}

function controlPlane(
  dir: string,
  state: State,
  survive: boolean,
  unregister: () => void,
  node: NodeState | undefined,
): ControlPlane {
  return {
    ...clusterHandle(dir, state.binDir, state.server),
    node,
    async restartApiServer() {
      await stopDaemon(state.pids.apiserver, 10_000);
      state.pids.apiserver = await startApiServer(dir, state, survive);
      await writeFile(statePath(dir), JSON.stringify(state, null, 2));
    },
    async stop() {
      await stopControlPlaneInDir(dir);
      unregister();
    },
  };
}

/** The handle of a control plane another process started in `dir` (no restart/stop: it is not ours). */
export async function attachControlPlane(dir: string): Promise<ClusterHandle> {
  const state = await readState(dir);
  if (!isRunning(state.pids.apiserver)) throw new Error(`the test control plane in ${dir} is not running`);
  return clusterHandle(dir, state.binDir, state.server);
}

/** Stops the processes recorded in `dir`/state.json (API server first, then etcd) and removes the files. */
export async function stopControlPlaneInDir(dir: string): Promise<void> {
  const state = await readState(dir);
  await stopNode(dir);
  if (state.nodeNetwork) await deleteNodeNetwork(state.nodeNetwork);
  await stopDaemon(state.pids.apiserver, 10_000);
  await stopDaemon(state.pids.etcd, 10_000);
  await removeFiles(dir, state.ownsDir);
}
