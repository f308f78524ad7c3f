// One Kubernetes node for the test bed: containerd + runc, a kubelet registered with the test bed's API
// server, kube-proxy, CNI bridge networking, all inside a network namespace the test bed creates
// (network.ts); kube-controller-manager and kube-scheduler beside the API server. Everything is recorded
// in <dir>/node/state.json so that `testbed down` (or stopNode) can undo all of it: processes, containers,
// mounts, the namespace with its rules, the node's cgroups, and the kernel settings the kubelet changes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitUntil } from '../../support/ports.ts';
import { runCommand } from '../command.ts';
import { isRunning, spawnDaemon, stopDaemon } from '../daemon.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import { issueClientCert, issueServingCert, type Pki } from '../pki.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodePaths,
  nodePaths,
} from './configs.ts';
import { ctr as ctrIn, loadPauseImage } from './images.ts';
import { deleteNodeNetwork, inNode, type NodeNetwork } from './network.ts';
import { NODE_PROGRAMS } from './support.ts';

export const NODE_NAME = 'testbed-node';
/** Kernel settings the kubelet sets at start (container_manager_linux.go); `down` puts them back. */
const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];
const START_MS = 120_000;

export interface NodeState {
  id: string;
  network: NodeNetwork;
  cniNetwork: string;
  cgroupRoot: string;
  /** Every cgroup hierarchy the node's cgroup was created in. */
  cgroupMounts: string[];
  sysctls: Record<string, string>;
  pids: {
    containerd: number;
    kubelet: number;
    kubeProxy: number;
    controllerManager: number;
    scheduler: number;
  };
}

export interface StartNodeOptions {
  /** The control plane's directory; the node lives in <dir>/node. */
  dir: string;
  binDir: string;
  pki: Pki;
  /** https://<network.hostAddress>:<port> */
  server: string;
  adminKubeconfig: string;
  network: NodeNetwork;
  id: string;
  cgroups: 'v1' | 'v2';
  serviceClusterIpRange: string;
  survive: boolean;
}

export const nodeDir = (dir: string): string => join(dir, 'node');
const statePath = (dir: string): string => join(nodeDir(dir), 'state.json');

function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4] ?? '')
    .filter((p) => p.startsWith('/sys/fs/cgroup'));
}

function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of KUBELET_SYSCTLS) {
    try {
      values[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    } catch {
      // Not on this kernel: the kubelet skips it too.
    }
  }
  return values;
}

async function logTail(file: string): Promise<string> {
  return readFile(file, 'utf8').then(
    (t) => t.split('\n').slice(-30).join('\n'),
    () => '(no log)',
  );
}

const ctr = (paths: NodePaths, args: readonly string[]): Promise<string> => ctrIn(paths.dir, args);

async function kubeconfigFor(options: StartNodeOptions, name: string, user: string, groups: string[]) {
  const cert = await issueClientCert(options.pki, user, groups);
  const path = join(nodeDir(options.dir), `${name}.kubeconfig`);
  await writeKubeconfig(path, options.server, await readFile(options.pki.caCert, 'utf8'), {
    name: user,
    ...cert,
  });
  return path;
}

/** Starts the node's components and resolves once the node is Ready. */
export async function startNode(options: StartNodeOptions): Promise<NodeState> {
  const dir = nodeDir(options.dir);
  const paths = nodePaths(dir);
  for (const d of [
    paths.containerdRoot,
    paths.containerdState,
    paths.cniConfDir,
    paths.kubeletCertDir,
    paths.podLogs,
  ])
    await mkdir(d, { recursive: true });
  const { network, id } = options;
  const cgroupRoot = `/celerybeat-${id}`;
  const state: NodeState = {
    id,
    network,
    cniNetwork: `celerybeat-${id}`,
    cgroupRoot,
    cgroupMounts: [],
    sysctls: readSysctls(),
    pids: { containerd: 0, kubelet: 0, kubeProxy: 0, controllerManager: 0, scheduler: 0 },
  };
  const save = () => writeFile(statePath(options.dir), JSON.stringify(state, null, 2));
  await save();
  // The kubelet wants its --cgroup-root to exist in every hierarchy.
  for (const mount of cgroupHierarchies()) {
    await mkdir(join(mount, cgroupRoot), { recursive: true });
    state.cgroupMounts.push(mount);
    if (options.cgroups === 'v2' && mount === '/sys/fs/cgroup')
      writeFileSync(join(mount, cgroupRoot, 'cgroup.subtree_control'), '+cpu +cpuset +memory +pids');
  }
  await save();

  await writeFile(join(dir, 'containerd.toml'), containerdConfig(paths));
  await writeFile(join(paths.cniConfDir, '10-bridge.conflist'), cniConfig(paths, network, state.cniNetwork));
  const serving = await issueServingCert(options.pki, `kubelet-${id}`, [
    `IP:${network.nodeAddress}`,
    `DNS:${NODE_NAME}`,
  ]);
  await writeFile(
    join(dir, 'kubelet.yaml'),
    kubeletConfig(paths, network, {
      caFile: options.pki.caCert,
      certFile: serving.certFile,
      keyFile: serving.keyFile,
      cgroupRoot,
      cgroups: options.cgroups,
    }),
  );
  const kubeletKubeconfig = await kubeconfigFor(options, 'kubelet', `system:node:${NODE_NAME}`, [
    'system:nodes',
  ]);
  const proxyKubeconfig = await kubeconfigFor(options, 'kube-proxy', 'system:kube-proxy', []);
  await writeFile(join(dir, 'kube-proxy.yaml'), kubeProxyConfig(proxyKubeconfig, network, NODE_NAME));

  const survive = options.survive;
  const start = async (name: keyof NodeState['pids'], command: string, args: string[], inNetns: boolean) => {
    const [file, argv] = inNetns ? inNode(network, command, args) : [command, args];
    state.pids[name] = spawnDaemon(file, argv, join(dir, `${name}.log`), { survive });
    await save();
  };
  const waitFor = async (what: string, name: keyof NodeState['pids'], check: () => Promise<boolean>) => {
    try {
      await waitUntil(
        what,
        async () => {
          if (!isRunning(state.pids[name])) throw new Error(`${name} exited`);
          return check();
        },
        START_MS,
        200,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${name}.log:\n${await logTail(join(dir, `${name}.log`))}`);
    }
  };
  const succeeds = (p: Promise<unknown>) =>
    p.then(
      () => true,
      () => false,
    );

  await start('containerd', NODE_PROGRAMS.containerd, ['--config', join(dir, 'containerd.toml')], true);
  await waitFor('containerd', 'containerd', () => succeeds(ctr(paths, ['version'])));
  await loadPauseImage(dir);

  const admin = options.adminKubeconfig;
  await start(
    'controllerManager',
    join(options.binDir, 'kube-controller-manager'),
    [
      `--kubeconfig=${admin}`,
      `--authentication-kubeconfig=${admin}`,
      `--authorization-kubeconfig=${admin}`,
      '--leader-elect=false',
      '--secure-port=0',
      `--root-ca-file=${options.pki.caCert}`,
      `--service-account-private-key-file=${options.pki.saPrivateKey}`,
      `--service-cluster-ip-range=${options.serviceClusterIpRange}`,
      '--controllers=*',
      '--v=1',
    ],
    false,
  );
  await start(
    'scheduler',
    join(options.binDir, 'kube-scheduler'),
    [
      `--kubeconfig=${admin}`,
      `--authentication-kubeconfig=${admin}`,
      `--authorization-kubeconfig=${admin}`,
      '--leader-elect=false',
      '--secure-port=0',
      '--v=1',
    ],
    false,
  );
  await start(
    'kubelet',
    join(options.binDir, 'kubelet'),
    [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${kubeletKubeconfig}`,
      `--root-dir=${paths.kubeletRoot}`,
      `--cert-dir=${paths.kubeletCertDir}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${network.nodeAddress}`,
      '--v=1',
    ],
    true,
  );
  await start(
    'kubeProxy',
    join(options.binDir, 'kube-proxy'),
    [`--config=${join(dir, 'kube-proxy.yaml')}`, '--v=1'],
    true,
  );

  const kubectl = (args: readonly string[]) =>
    runCommand(join(options.binDir, 'kubectl'), ['--kubeconfig', admin, ...args]);
  await waitFor(`node ${NODE_NAME} Ready`, 'kubelet', async () => {
    const ready = await kubectl([
      'get',
      'node',
      NODE_NAME,
      '-o',
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]).catch(() => '');
    return ready === 'True';
  });
  await waitFor('the default ServiceAccount', 'controllerManager', () =>
    succeeds(kubectl(['get', 'serviceaccount', 'default', '-n', 'default'])),
  );
  return state;
}

function run(command: string, args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Mount points at or below `root`, deepest first. */
export function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((p) => p === root || p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** Processes (other than this one) whose command line mentions `text`. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

const CNI_CACHE = '/var/lib/cni/results';

/** libcni's result cache lives outside the node's directory: its entries of this node (pod network and
 * loopback) name a network namespace under the node's directory. */
function cniCacheEntries(dir: string): string[] {
  if (!existsSync(CNI_CACHE)) return [];
  return readdirSync(CNI_CACHE)
    .map((f) => join(CNI_CACHE, f))
    .filter((f) => {
      try {
        return readFileSync(f, 'utf8').includes(`${dir}/`);
      } catch {
        return false;
      }
    });
}

function cgroupProcs(path: string): number[] {
  if (!existsSync(path)) return [];
  const own = readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const children = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [...own, ...children.flatMap((e) => cgroupProcs(join(path, e.name)))];
}

function removeCgroup(path: string): void {
  if (!existsSync(path)) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(path, entry.name));
  }
  try {
    rmSync(path, { recursive: false });
  } catch {
    spawnSync('rmdir', [path]);
  }
}

/** Undoes startNode; safe to call on a half-started node or one whose processes already died. */
export async function stopNode(dir: string): Promise<void> {
  if (!existsSync(statePath(dir))) return;
  const state = JSON.parse(await readFile(statePath(dir), 'utf8')) as NodeState;
  const paths = nodePaths(nodeDir(dir));
  // No kubelet to restart containers, then no container, then no containerd.
  for (const pid of [
    state.pids.kubelet,
    state.pids.kubeProxy,
    state.pids.scheduler,
    state.pids.controllerManager,
  ])
    if (pid) await stopDaemon(pid, 10_000);
  if (state.pids.containerd && isRunning(state.pids.containerd)) {
    const tasks = await ctr(paths, ['tasks', 'ls', '-q']).catch(() => '');
    for (const task of tasks.split('\n').filter(Boolean))
      await ctr(paths, ['tasks', 'delete', '--force', task]).catch(() => undefined);
    const containers = await ctr(paths, ['containers', 'ls', '-q']).catch(() => '');
    for (const c of containers.split('\n').filter(Boolean))
      await ctr(paths, ['containers', 'delete', c]).catch(() => undefined);
    await stopDaemon(state.pids.containerd, 10_000);
  }
  // Shims outlive containerd by design; the ones of this node name its socket.
  for (const pid of processesMentioning(paths.containerdSocket))
    await stopDaemon(pid, 5_000).catch(() => undefined);
  for (const mount of mountsUnder(paths.dir)) run('umount', ['--lazy', mount]);
  await deleteNodeNetwork(state.network);
  // A container killed a moment ago may still be leaving its cgroup: anything left in the node's cgroups is
  // one of its processes, so it goes too, until the cgroups can be removed.
  await waitUntil(
    "the node's cgroups removed",
    () => {
      for (const mount of state.cgroupMounts) {
        const root = join(mount, state.cgroupRoot);
        for (const pid of cgroupProcs(root)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone meanwhile.
          }
        }
        removeCgroup(root);
      }
      return state.cgroupMounts.every((m) => !existsSync(join(m, state.cgroupRoot)));
    },
    15_000,
    200,
  ).catch(() => undefined);
  for (const [key, value] of Object.entries(state.sysctls)) {
    try {
      writeFileSync(`/proc/sys/${key}`, value);
    } catch {
      // Read-only here: then the kubelet could not have changed it either.
    }
  }
  for (const file of cniCacheEntries(paths.dir)) rmSync(file, { force: true });
  await rm(paths.dir, { recursive: true, force: true });
}

/** What is left of a node after stopNode: an empty list when nothing is. */
export function nodeLeftovers(dir: string, state: NodeState): string[] {
  const left: string[] = [];
  const paths = nodePaths(nodeDir(dir));
  for (const [name, pid] of Object.entries(state.pids))
    if (pid && isRunning(pid)) left.push(`process ${name} (${pid})`);
  for (const pid of processesMentioning(paths.containerdSocket))
    left.push(`process ${pid} naming the node's socket`);
  for (const m of mountsUnder(paths.dir)) left.push(`mount ${m}`);
  if (existsSync(`/run/netns/${state.network.netns}`)) left.push(`netns ${state.network.netns}`);
  if (run('ip', ['link', 'show', state.network.hostInterface]).ok)
    left.push(`link ${state.network.hostInterface}`);
  for (const mount of state.cgroupMounts)
    if (existsSync(join(mount, state.cgroupRoot))) left.push(`cgroup ${join(mount, state.cgroupRoot)}`);
  for (const [key, value] of Object.entries(state.sysctls)) {
    const now = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    if (now !== value) left.push(`sysctl ${key}=${now} (was ${value})`);
  }
  const rules = run('iptables-save', []).out;
  if (/KUBE-|CNI-/.test(rules)) left.push('iptables rules with KUBE- or CNI- chains in the host namespace');
  for (const f of cniCacheEntries(paths.dir)) left.push(`CNI cache entry ${f}`);
  if (existsSync(paths.dir)) left.push(`directory ${paths.dir}`);
  return left;
}
