// One line to each broker in use: the operator's own, opened at start and kept, and each broker a policy names,
// opened on its first run and closed once no policy names it (after the dispatches using it have ended). A
// line is a broker connection with the dispatcher over it (atomic on the store's server, claim-then-publish
// elsewhere), so every broker gets the same guarantees.
import type { SlotDispatcher } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';
import { redactUrl } from '../observe/redact-url.ts';

export interface BrokerLine {
  readonly dispatcher: SlotDispatcher;
  /** Celery's remote-control revoke, broadcast on this broker (to the workers that consume it). */
  revoke(taskIds: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** Opens the line to a broker URL; rejects when the broker cannot be reached or its URL is unusable. */
export type OpenBrokerLine = (url: string) => Promise<BrokerLine>;

const RETIRED = 'broker closed (no PeriodicTaskPolicy names it any more)';

interface Entry {
  line: Promise<BrokerLine>;
  /** Dispatches using the line now: it is closed only when none is left. */
  users: number;
  retired: boolean;
}

/** A line held by one dispatch; `release` once the dispatch has ended. */
export interface HeldLine {
  line: BrokerLine;
  release(): void;
}

export class BrokerRegistry {
  readonly #defaultUrl: string;
  readonly #default: BrokerLine;
  readonly #open: OpenBrokerLine;
  readonly #logger: Logger;
  readonly #lines = new Map<string, Entry>();

  constructor(defaultUrl: string, defaultLine: BrokerLine, open: OpenBrokerLine, logger: Logger) {
    this.#defaultUrl = defaultUrl;
    this.#default = defaultLine;
    this.#open = open;
    this.#logger = logger;
  }

  /** The brokers a policy named that have a line now (not the operator's own). */
  get size(): number {
    return this.#lines.size;
  }

  /**
   * The line to `url` (undefined, or the operator's own URL: the default line), opened on first use. A line
   * that failed to open is not kept: the next dispatch tries again.
   */
  async hold(url: string | undefined): Promise<HeldLine> {
    if (url === undefined || url === this.#defaultUrl) return { line: this.#default, release: () => {} };
    let entry = this.#lines.get(url);
    if (!entry) {
      const opening: Entry = { line: this.#open(url), users: 0, retired: false };
      entry = opening;
      this.#lines.set(url, opening);
      // A line that failed to open is dropped, so the next dispatch tries again.
      opening.line.catch(() => {
        if (this.#lines.get(url) === opening) this.#lines.delete(url);
      });
    }
    entry.users += 1;
    const held = entry;
    let line: BrokerLine;
    try {
      line = await held.line;
    } catch (error) {
      held.users -= 1;
      throw error;
    }
    let released = false;
    return {
      line,
      release: () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.retired && held.users === 0) void this.#close(url, held, RETIRED);
      },
    };
  }

  /** Keeps the lines of these URLs; the others are closed as soon as no dispatch uses them. */
  retain(urls: ReadonlySet<string>): void {
    for (const [url, entry] of this.#lines) {
      if (urls.has(url)) continue;
      this.#lines.delete(url);
      entry.retired = true;
      if (entry.users === 0) void this.#close(url, entry, RETIRED);
    }
  }

  /** Closes every line, the default one included (shutdown). */
  async close(): Promise<void> {
    const entries = [...this.#lines];
    this.#lines.clear();
    await Promise.all([
      this.#default.close(),
      ...entries.map(([url, entry]) => this.#close(url, entry, 'broker closed')),
    ]);
  }

  async #close(url: string, entry: Entry, message: string): Promise<void> {
    try {
      await (await entry.line).close();
      this.#logger.info({ broker: redactUrl(url) }, message);
    } catch (error) {
      // A line that never opened has nothing to close; a close that fails leaves nothing to retry.
      this.#logger.debug(
        { broker: redactUrl(url), reason: (error as Error).message },
        'closing a broker failed',
      );
    }
  }
}
