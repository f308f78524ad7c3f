// Joins the hand-written keys to the operator's main source (the API server or the manifest directory), and
// sends what concerns a hand-written key (status, events) to the log: it has no resource to write them to.
import type { PeriodicTask } from '../api/types.ts';
import type { StatusSink, StatusUpdate, TaskEvents, TaskRef, TaskSource } from '../contracts.ts';

export function withHandWrittenKeys(main: TaskSource, handWritten: TaskSource): TaskSource {
  return {
    async start(onChange) {
      await Promise.all([main.start(onChange), handWritten.start(onChange)]);
    },
    list(): PeriodicTask[] {
      return [...main.list(), ...handWritten.list()];
    },
    get: (key) => main.get(key) ?? handWritten.get(key),
    synced: () => main.synced() && handWritten.synced(),
    complete: () => main.complete?.() !== false && handWritten.complete?.() !== false,
    async stop() {
      await Promise.all([main.stop(), handWritten.stop()]);
    },
  };
}

export function routeHandWrittenStatus(main: StatusSink, handWritten: StatusSink): StatusSink {
  const routed: StatusSink = {
    report(namespace: string, name: string, update: StatusUpdate): void {
      (namespace === '' ? handWritten : main).report(namespace, name, update);
    },
    async flush() {
      await Promise.all([main.flush(), handWritten.flush()]);
    },
  };
  if (main.pendingCount) routed.pendingCount = () => main.pendingCount?.() ?? 0;
  return routed;
}

/** Events about a hand-written key are dropped: whoever reports one has logged it already. */
export function routeHandWrittenEvents(main: TaskEvents): TaskEvents {
  const isHandWritten = (task: TaskRef) => task.namespace === '';
  return {
    warning(task, reason, message) {
      if (!isHandWritten(task)) main.warning(task, reason, message);
    },
    normal(task, reason, message) {
      if (!isHandWritten(task)) main.normal(task, reason, message);
    },
  };
}
