// `npm run testbed -- up --dir DIR`: starts a control plane that keeps running, writes DIR/kubeconfig, returns.
// `npm run testbed -- down --dir DIR`: stops every process `up` started there and removes its files.
import { parseArgs } from 'node:util';
import { startControlPlane, stopControlPlaneInDir } from './control-plane.ts';

const USAGE = 'usage: npm run testbed -- up|down --dir DIR';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
    const cp = await startControlPlane({ dir, survive: true });
    process.stdout.write(
      [
        `control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
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
