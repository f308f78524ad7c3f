// `node test/testbed/node/stop.ts DIR`: undoes the node of the control plane in DIR. Run synchronously at
// exit by a test process whose node would otherwise outlive it (see control-plane.ts).
import { stopNode } from './node.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node test/testbed/node/stop.ts DIR\n');
  process.exit(2);
}
await stopNode(dir);
