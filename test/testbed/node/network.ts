// The node's own network namespace, made by the test bed: containerd, the kubelet and kube-proxy run in it,
// so the CNI bridge, the pods' addresses and every iptables rule kube-proxy and the bridge plugin write live
// there and vanish with it. A veth pair links it to this machine: the host end carries the address the API
// server (and the tests' Redis) listen on, the node end is the node's InternalIP. Pod traffic leaving the
// node is masqueraded to the node address, so the host needs no route to the pods; nothing leaves the machine.
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { runCommand } from '../command.ts';

export interface NodeNetwork {
  /** `ip netns` name; the namespace file is /run/netns/<netns>. */
  netns: string;
  /** Host end of the veth pair (the node end is eth0 inside the namespace). */
  hostInterface: string;
  /** Address of the host end: the API server, Redis and the Celery broker listen here for the node. */
  hostAddress: string;
  /** The node's InternalIP. */
  nodeAddress: string;
  /** The pods' subnet on the node's bridge (inside the namespace only). */
  podSubnet: string;
}

const ip = (args: readonly string[]): Promise<string> => runCommand('ip', args);
/** Runs a command inside the node's network namespace (and nothing else: same mounts, same pid space). */
export const inNode = (
  network: NodeNetwork,
  command: string,
  args: readonly string[],
): [string, string[]] => ['/usr/bin/nsenter', [`--net=/run/netns/${network.netns}`, '--', command, ...args]];

async function usedSubnets(): Promise<Set<string>> {
  const out = await ip(['-4', '-o', 'addr', 'show']);
  const used = new Set<string>();
  for (const match of out.matchAll(/inet (\d+)\.(\d+)\.(\d+)\.\d+\//g))
    used.add(`${match[1]}.${match[2]}.${match[3]}`);
  return used;
}

/** Creates the namespace and the veth pair in a /30 of 172.31.0.0/16 that no interface here uses. */
export async function createNodeNetwork(id: string): Promise<NodeNetwork> {
  const used = await usedSubnets();
  let third: number;
  do third = randomInt(0, 256);
  while (used.has(`172.31.${third}`));
  const base = `172.31.${third}`;
  const network: NodeNetwork = {
    netns: `celerybeat-${id}`,
    hostInterface: `cbo-${id}`,
    hostAddress: `${base}.1`,
    nodeAddress: `${base}.2`,
    podSubnet: '10.88.0.0/24',
  };
  const peer = `cbn-${id}`;
  try {
    await ip(['netns', 'add', network.netns]);
    await ip(['link', 'add', network.hostInterface, 'type', 'veth', 'peer', 'name', peer]);
    await ip(['link', 'set', peer, 'netns', network.netns]);
    await ip(['addr', 'add', `${network.hostAddress}/30`, 'dev', network.hostInterface]);
    await ip(['link', 'set', network.hostInterface, 'up']);
    const inside = (args: readonly string[]) => ip(['-n', network.netns, ...args]);
    await inside(['link', 'set', peer, 'name', 'eth0']);
    await inside(['addr', 'add', `${network.nodeAddress}/30`, 'dev', 'eth0']);
    await inside(['link', 'set', 'eth0', 'up']);
    await inside(['link', 'set', 'lo', 'up']);
    await inside(['route', 'add', 'default', 'via', network.hostAddress]);
    // Routing between the pods' bridge and eth0, inside the namespace only.
    await runCommand(...inNode(network, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']));
  } catch (err) {
    await deleteNodeNetwork(network);
    throw err;
  }
  return network;
}

/** Deletes the namespace (which takes its end of the veth pair, the bridge and its rules with it). */
export async function deleteNodeNetwork(network: NodeNetwork): Promise<void> {
  await ip(['link', 'del', network.hostInterface]).catch(() => undefined);
  if (existsSync(`/run/netns/${network.netns}`)) await ip(['netns', 'delete', network.netns]);
}
