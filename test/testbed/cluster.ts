// The control plane shared by all test files of one `npm test` run.
//
// test/global-setup.ts starts it once and exports, to every test process it spawns:
//   CELERYBEAT_TESTBED_DIR       directory of the control plane (state.json, pki/, kubeconfig, logs)
//   CELERYBEAT_TEST_KUBECONFIG   admin kubeconfig (client certificate, group system:masters)
//   CELERYBEAT_TESTBIN_DIR       directory of the pinned etcd, kube-apiserver, kubectl and helm
// A test file run on its own (`node --test file.ts`, no global setup) gets a control plane of its own
// instead, killed when the test process exits.
//
// Tests on the shared control plane isolate themselves by namespace (and unique names for cluster-scoped
// objects). A test that restarts or breaks the API server starts its own with startControlPlane().
import type { ClusterHandle } from './cluster-handle.ts';
import { attachControlPlane, startControlPlane } from './control-plane.ts';

export const TESTBED_DIR_ENV = 'CELERYBEAT_TESTBED_DIR';
export const KUBECONFIG_ENV = 'CELERYBEAT_TEST_KUBECONFIG';
export const TESTBIN_DIR_ENV = 'CELERYBEAT_TESTBIN_DIR';

let shared: Promise<ClusterHandle> | undefined;

export function sharedCluster(): Promise<ClusterHandle> {
  if (!shared) {
    const dir = process.env[TESTBED_DIR_ENV];
    if (dir) {
      shared = attachControlPlane(dir);
    } else {
      process.stderr.write(
        `${TESTBED_DIR_ENV} is not set (no global setup): starting a control plane for this process\n`,
      );
      shared = startControlPlane();
    }
  }
  return shared;
}

export type { ClusterHandle } from './cluster-handle.ts';
export type { ControlPlane } from './control-plane.ts';
export { startControlPlane } from './control-plane.ts';
