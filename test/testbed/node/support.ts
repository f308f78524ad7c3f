// Whether this machine can run the test bed's node, and if not, which kernel feature or program it lacks:
// the node test prints that as its skip line. Checked the way the kubelet, containerd and runc will use them.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** `kernel`: the kernel (or the privilege to use it) lacks a feature, so the node test is skipped and says
 * which; `setup`: a program or binary is missing, which .ci/run installs, so the node test fails. */
export type NodeSupport =
  | { ok: true; cgroups: 'v1' | 'v2' }
  | { ok: false; kind: 'kernel' | 'setup'; missing: string };

/** Controllers the kubelet needs in every cgroup hierarchy it manages (hugetlb is optional to it). */
const CGROUP_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'devices', 'freezer'] as const;
const CGROUP2_MAGIC = 0x63677270;
export const NODE_PROGRAMS = {
  containerd: '/usr/bin/containerd',
  'containerd-shim-runc-v2': '/usr/bin/containerd-shim-runc-v2',
  ctr: '/usr/bin/ctr',
  runc: '/usr/sbin/runc',
  buildah: '/usr/bin/buildah',
  mmdebstrap: '/usr/bin/mmdebstrap',
  catatonit: '/usr/bin/catatonit',
  iptables: '/usr/sbin/iptables',
  conntrack: '/usr/sbin/conntrack',
  nsenter: '/usr/bin/nsenter',
  'CNI bridge plugin': '/usr/lib/cni/bridge',
  'CNI host-local plugin': '/usr/lib/cni/host-local',
  'CNI loopback plugin': '/usr/lib/cni/loopback',
  'CNI portmap plugin': '/usr/lib/cni/portmap',
} as const;
export const NODE_BINARIES = ['kubelet', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'] as const;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function succeeds(command: string, args: readonly string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

function cgroups(): { version: 'v1' | 'v2' } | { missing: string } {
  let type: number;
  try {
    type = statfsSync('/sys/fs/cgroup').type;
  } catch {
    return { missing: 'cgroups (nothing mounted on /sys/fs/cgroup)' };
  }
  if (type === CGROUP2_MAGIC) {
    const enabled = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/);
    const lacking = ['cpu', 'cpuset', 'memory', 'pids'].filter((c) => !enabled.includes(c));
    if (lacking.length > 0) return { missing: `cgroup v2 controllers ${lacking.join(', ')}` };
    return { version: 'v2' };
  }
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(' - cgroup '))
    .flatMap((line) => (line.split(' - cgroup ')[1]?.split(' ')[1] ?? '').split(','));
  const lacking = CGROUP_CONTROLLERS.filter((c) => !mounted.includes(c));
  if (lacking.length > 0) return { missing: `cgroup v1 controllers ${lacking.join(', ')} (not mounted)` };
  return { version: 'v1' };
}

/** What the node needs, checked in the order a start would trip over it. */
export function nodeSupport(binDir: string | undefined): NodeSupport {
  if (process.getuid?.() !== 0)
    return { ok: false, kind: 'kernel', missing: 'root (containerd, the kubelet and netns need it)' };
  if (process.platform !== 'linux') return { ok: false, kind: 'kernel', missing: 'Linux' };
  const filesystems = readFileSync('/proc/filesystems', 'utf8');
  if (!/\boverlay\b/.test(filesystems))
    return { ok: false, kind: 'kernel', missing: 'overlayfs (CONFIG_OVERLAY_FS)' };
  const status = readFileSync('/proc/self/status', 'utf8');
  if (!/^Seccomp:/m.test(status)) return { ok: false, kind: 'kernel', missing: 'seccomp (CONFIG_SECCOMP)' };
  if (!existsSync('/proc/sys/kernel/seccomp/actions_avail'))
    return { ok: false, kind: 'kernel', missing: 'seccomp filters (CONFIG_SECCOMP_FILTER)' };
  const cg = cgroups();
  if ('missing' in cg) return { ok: false, kind: 'kernel', missing: cg.missing };
  for (const [name, path] of Object.entries(NODE_PROGRAMS)) {
    if (!executable(path))
      return { ok: false, kind: 'setup', missing: `${name} (${path}; see .ci/run for the packages)` };
  }
  if (!succeeds('unshare', ['--net', '--mount', 'true']))
    return {
      ok: false,
      kind: 'kernel',
      missing: 'network and mount namespaces (unshare --net --mount fails)',
    };
  if (
    !succeeds('unshare', [
      '--net',
      'sh',
      '-c',
      'ip link add v0 type veth peer name v1 && ip link add b0 type bridge',
    ])
  )
    return { ok: false, kind: 'kernel', missing: 'veth or bridge interfaces (CONFIG_VETH, CONFIG_BRIDGE)' };
  if (!succeeds('unshare', ['--net', NODE_PROGRAMS.iptables, '-t', 'nat', '-S']))
    return { ok: false, kind: 'kernel', missing: 'iptables nat table (CONFIG_NF_NAT / CONFIG_IP_NF_NAT)' };
  if (binDir) {
    for (const b of NODE_BINARIES) {
      if (!executable(join(binDir, b)))
        return { ok: false, kind: 'setup', missing: `${b} (run test/testbed/build-binaries.sh)` };
    }
  }
  return { ok: true, cgroups: cg.version };
}
