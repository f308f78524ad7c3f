// Ends the process. Node can hang in its own exit while a background compile job waits for a garbage
// collection that only the main thread can run, and the main thread is waiting for that job to end
// (nodejs/node#54918). The heap limits that favour size (heap-tuning.ts) make a background allocation wait
// for a collection often, so a start failure or a shutdown could hang instead of exiting. The heap gets room
// and one full collection runs on the main thread first, which lets any waiting job finish.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function exitProcess(code: number): never {
  // Read at the next full collection: the one below.
  setFlagsFromString('--heap-growing-percent=100');
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  process.exit(code);
}
