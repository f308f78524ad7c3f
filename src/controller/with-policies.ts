// Joins the PeriodicTaskPolicies to the task source: the operator is synced only once both are read (no task
// is scheduled before the policies of its namespace are known), and a change of a policy or of a namespace's
// labels re-checks every task (a full pass, in which the reconciler sees the policies' new version).
import type { PolicySource, TaskSource } from '../contracts.ts';
import type { PolicyBook } from '../policy/policy-book.ts';

/** `changed` hears of each change of the policies after the book, before the tasks are checked again. */
export function withPolicies(
  tasks: TaskSource,
  policies: PolicySource,
  book: PolicyBook,
  changed: () => void = () => {},
): TaskSource {
  const joined: TaskSource = {
    async start(onChange) {
      await Promise.all([
        tasks.start(onChange),
        policies.start(() => {
          book.changed();
          changed();
          onChange();
        }),
      ]);
    },
    list: () => tasks.list(),
    get: (key) => tasks.get(key),
    synced: () => tasks.synced() && policies.synced(),
    listed: () => tasks.listed?.() ?? tasks.synced(),
    async stop() {
      await Promise.all([tasks.stop(), policies.stop()]);
    },
  };
  if (tasks.complete) joined.complete = () => tasks.complete?.() !== false;
  return joined;
}
