// `npm test` runs this once in the test runner's process (node --test-global-setup): one control plane for
// the whole run, announced to the test processes through environment variables (see test/testbed/cluster.ts).
import { KUBECONFIG_ENV, TESTBED_DIR_ENV, TESTBIN_DIR_ENV } from './testbed/cluster.ts';
import { type ControlPlane, startControlPlane } from './testbed/control-plane.ts';

let controlPlane: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  controlPlane = await startControlPlane();
  process.env[TESTBED_DIR_ENV] = controlPlane.dir;
  process.env[KUBECONFIG_ENV] = controlPlane.kubeconfigPath;
  process.env[TESTBIN_DIR_ENV] = controlPlane.binDir;
  process.stderr.write(`test control plane ready at ${controlPlane.server} in ${Date.now() - started} ms\n`);
}

export async function globalTeardown(): Promise<void> {
  await controlPlane?.stop();
}
