// The /healthz rule for a stuck dispatch loop: due slots have waited longer than the stall timeout for a
// dispatch that answers, while this process leads and Redis answers PING. Then a restart may help. When Redis
// does not answer, a restart would not bring it back (the tasks' Ready says StoreUnavailable), so the
// process stays alive; when nothing is due, nothing is stuck.
import { withTimeout } from '../timing/with-timeout.ts';
import type { DispatchStall } from './beat.ts';

export interface DispatchStallCheckOptions {
  /** The beat's view: since when due slots have waited, or null. */
  stall: () => DispatchStall | null;
  /** Whether this process does leader work (only the leader dispatches). */
  leading: () => boolean;
  /** Asks the store whether it answers (PING). */
  ping: () => Promise<unknown>;
  timeoutMs: number;
  /** How long the PING may take: within the probe's own timeout. */
  pingTimeoutMs?: number;
  clock?: () => number;
}

/** The check: true when healthy, else why the dispatch loop is stuck. */
export function dispatchStallCheck(options: DispatchStallCheckOptions): () => Promise<true | string> {
  const { stall, leading, ping, timeoutMs, pingTimeoutMs = 1000, clock = Date.now } = options;
  return async () => {
    if (!leading()) return true;
    const waiting = stall();
    if (waiting === null) return true;
    const waitedMs = clock() - waiting.since;
    if (waitedMs < timeoutMs) return true;
    if (!(await answers(ping, pingTimeoutMs))) return true;
    return `due slots have not been dispatched for ${Math.round(waitedMs / 1000)} s while Redis answers PING (${waiting.reason})`;
  };
}

/** Whether the store answers PING within `timeoutMs`. */
function answers(ping: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return withTimeout(
    Promise.resolve().then(ping),
    timeoutMs,
    () => new Error(`no PING answer within ${timeoutMs} ms`),
  ).then(
    () => true,
    () => false,
  );
}
