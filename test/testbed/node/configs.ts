// Configuration files of the node's components. Every path the components write to is inside the node's
// directory (or the node's network namespace), so `down` can remove all of it.
import { stringify } from 'yaml';
import type { NodeNetwork } from './network.ts';

export interface NodePaths {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  runcRoot: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  kubeletCertDir: string;
  podLogs: string;
}

export function nodePaths(dir: string): NodePaths {
  return {
    dir,
    containerdRoot: `${dir}/containerd/root`,
    containerdState: `${dir}/containerd/state`,
    containerdSocket: `${dir}/containerd/containerd.sock`,
    runcRoot: `${dir}/runc`,
    cniConfDir: `${dir}/cni/net.d`,
    cniDataDir: `${dir}/cni/ipam`,
    kubeletRoot: `${dir}/kubelet`,
    kubeletCertDir: `${dir}/kubelet/pki`,
    podLogs: `${dir}/pod-logs`,
  };
}

export const PAUSE_IMAGE = 'localhost/celerybeat-testbed/pause:catatonit';

/** containerd 1.6 (config version 2): CRI with runc and cgroupfs, CNI from Debian's plugins, no registry. */
export function containerdConfig(paths: NodePaths): string {
  const q = JSON.stringify;
  return `version = 2
root = ${q(paths.containerdRoot)}
state = ${q(paths.containerdState)}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(paths.containerdSocket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(PAUSE_IMAGE)}
  disable_apparmor = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  # The kubelet asks for oom_score_adj -998 for sandboxes; a process without CAP_SYS_RESOURCE (as in some
  # build sandboxes) may not go below its own value, so containerd clamps it there instead of failing.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = ${q(paths.runcRoot)}
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(paths.cniConfDir)}
    max_conf_num = 1

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(`${paths.dir}/containerd/opt`)}
`;
}

/** One bridge inside the node's namespace; pod traffic to anything off the bridge is masqueraded. */
export function cniConfig(paths: NodePaths, network: NodeNetwork, name: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name,
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: network.podSubnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: paths.cniDataDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeletOptions {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The node's cgroup, created beforehand in every hierarchy; pods go below it. */
  cgroupRoot: string;
  cgroups: 'v1' | 'v2';
}

export function kubeletConfig(paths: NodePaths, network: NodeNetwork, options: KubeletOptions): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: network.nodeAddress,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    tlsCertFile: options.certFile,
    tlsPrivateKeyFile: options.keyFile,
    // The API server presents a client certificate from the test bed's CA (logs, exec).
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: options.caFile },
    },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: options.cgroupRoot,
    cgroupsPerQOS: true,
    // This kernel's hierarchy may be cgroup v1; the kubelet still supports it when told so.
    failCgroupV1: options.cgroups === 'v2',
    failSwapOn: false,
    podLogsDir: paths.podLogs,
    resolvConf: '/etc/resolv.conf',
    clusterDomain: 'cluster.local',
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // A shared build machine's disk must not make the node evict the operator mid-test.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    // Kernel settings stay as they are (the test bed restores the ones the kubelet changes anyway).
    protectKernelDefaults: false,
    kernelMemcgNotification: false,
    localStorageCapacityIsolation: true,
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    shutdownGracePeriod: '0s',
  });
}

export function kubeProxyConfig(kubeconfig: string, network: NodeNetwork, nodeName: string): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    hostnameOverride: nodeName,
    bindAddress: network.nodeAddress,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    clusterCIDR: network.podSubnet,
    // conntrack sysctls are per network namespace only in part: leave them all alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}
