// `npm run testbed -- up --dir DIR`: starts a control plane that keeps running, writes DIR/kubeconfig, returns.
// `npm run testbed -- up --with-node --dir DIR`: also a node (containerd, kubelet, kube-proxy, controller
//   manager, scheduler, CNI bridge in a network namespace of its own) with the operator image built from the
//   Dockerfile loaded into it as localhost/celerybeat-operator:dev.
// `npm run testbed -- down --dir DIR`: stops every process `up` started there and removes its files, and for a
//   node its containers, mounts, network namespace (with its iptables rules) and cgroups.
import { parseArgs } from 'node:util';
import { startControlPlane, stopControlPlaneInDir } from './control-plane.ts';
import { buildOperatorImage, imageSize, loadImage } from './node/images.ts';
import { nodeDir } from './node/node.ts';

const USAGE = 'usage: npm run testbed -- up [--with-node] --dir DIR | down --dir DIR';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'with-node': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command] = positionals;
  const dir = values.dir;
  if (!dir || (command !== 'up' && command !== 'down') || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (command === 'up') {
    const started = Date.now();
    const withNode = values['with-node'] ?? false;
    const cp = await startControlPlane({ dir, survive: true, withNode });
    const lines = [`control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`];
    if (cp.node) {
      const image = await buildOperatorImage('dev');
      await loadImage(nodeDir(dir), image);
      lines.push(
        `node:       ${cp.node.network.nodeAddress} (network namespace ${cp.node.network.netns}), host side ${cp.node.network.hostAddress}`,
        `image:      ${image} (${await imageSize(image)}), loaded into the node's containerd`,
        `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    process.stdout.write(
      [
        ...lines,
        `server:     ${cp.server}`,
        `kubeconfig: ${cp.kubeconfigPath}`,
        `kubectl:    ${cp.binDir}/kubectl --kubeconfig ${cp.kubeconfigPath} get ns`,
        `stop with:  npm run testbed -- down --dir ${dir}`,
        '',
      ].join('\n'),
    );
  } else {
    await stopControlPlaneInDir(dir);
    process.stdout.write(`control plane in ${dir} stopped\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`testbed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
