// What the API server holds of the benchmark's PeriodicTasks, kept by a list and a watch as the admin (as a
// dashboard would see it), so that "every status written" is counted from events rather than by listing
// 100,000 objects again and again. A watch that ends is resumed from the last resourceVersion; an expired
// one (410) lists again.
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';

export interface AdminTls {
  ca: string;
  cert: string;
  key: string;
}

export interface TallyCounts {
  /** Objects that exist. */
  objects: number;
  /** status.observedGeneration == metadata.generation: the operator has written the status of this spec. */
  observed: number;
  /** status.totalRunCount >= 1: the status shows a run. */
  ran: number;
}

interface TaskObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  status?: { observedGeneration?: number; totalRunCount?: number };
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: TaskObject & { code?: number; message?: string };
}

const OBSERVED = 1;
const RAN = 2;
const PAGE = 1000;

class Expired extends Error {}

export class PeriodicTaskTally {
  readonly #base: string;
  readonly #tls: AdminTls;
  readonly #flags = new Map<string, number>();
  #observed = 0;
  #ran = 0;
  #resourceVersion = '';
  #stopped = false;
  #response: IncomingMessage | undefined;
  #loop: Promise<void> | undefined;
  /** The last failure of the list or the watch, for a failure message. */
  lastError: string | undefined;
  /** Watch events read (all types). */
  events = 0;

  constructor(server: string, namespace: string, tls: AdminTls) {
    this.#base = `${server}/apis/celerybeat.io/v1alpha1/namespaces/${namespace}/periodictasks`;
    this.#tls = tls;
  }

  async start(): Promise<void> {
    await this.#list();
    this.#loop = this.#watchLoop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#response?.destroy();
    await this.#loop;
  }

  /** The object's status shows a run (totalRunCount >= 1). */
  hasRun(name: string): boolean {
    return ((this.#flags.get(name) ?? 0) & RAN) !== 0;
  }

  counts(): TallyCounts {
    return { objects: this.#flags.size, observed: this.#observed, ran: this.#ran };
  }

  #set(object: TaskObject): void {
    const before = this.#flags.get(object.metadata.name) ?? 0;
    const status = object.status;
    const flags =
      (status?.observedGeneration !== undefined && status.observedGeneration === object.metadata.generation
        ? OBSERVED
        : 0) | ((status?.totalRunCount ?? 0) >= 1 ? RAN : 0);
    this.#flags.set(object.metadata.name, flags);
    this.#observed += (flags & OBSERVED ? 1 : 0) - (before & OBSERVED ? 1 : 0);
    this.#ran += (flags & RAN ? 1 : 0) - (before & RAN ? 1 : 0);
    if (object.metadata.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
  }

  #delete(name: string): void {
    const before = this.#flags.get(name) ?? 0;
    this.#flags.delete(name);
    if (before & OBSERVED) this.#observed -= 1;
    if (before & RAN) this.#ran -= 1;
  }

  async #list(): Promise<void> {
    this.#flags.clear();
    this.#observed = 0;
    this.#ran = 0;
    let cont = '';
    let resourceVersion = '';
    do {
      const page = JSON.parse(
        await this.#get(`${this.#base}?limit=${PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`),
      ) as { metadata: { resourceVersion: string; continue?: string }; items: TaskObject[] };
      for (const item of page.items) this.#set(item);
      resourceVersion ||= page.metadata.resourceVersion;
      cont = page.metadata.continue ?? '';
    } while (cont !== '');
    this.#resourceVersion = resourceVersion;
  }

  #get(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(url, { ...this.#tls, timeout: 120_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(body);
          else reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 300)}`));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 120 s`)));
      req.on('error', reject);
      req.end();
    });
  }

  async #watchLoop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#watchOnce();
      } catch (error) {
        if (this.#stopped) return;
        this.lastError = (error as Error).message;
        if (error instanceof Expired) {
          await this.#list().catch((e: unknown) => {
            this.lastError = `relisting: ${(e as Error).message}`;
          });
        } else {
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  }

  #watchOnce(): Promise<void> {
    const url =
      `${this.#base}?watch=true&allowWatchBookmarks=true&timeoutSeconds=600` +
      `&resourceVersion=${encodeURIComponent(this.#resourceVersion)}`;
    return new Promise((resolve, reject) => {
      const req = request(url, this.#tls, (res) => {
        this.#response = res;
        if (res.statusCode !== 200) {
          res.resume();
          reject(
            res.statusCode === 410 ? new Expired('watch: 410') : new Error(`watch: HTTP ${res.statusCode}`),
          );
          return;
        }
        let partial = '';
        res.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (line === '') continue;
            const event = JSON.parse(line) as WatchEvent;
            this.events += 1;
            if (event.type === 'ERROR') {
              const message = `watch: ${event.object.code} ${event.object.message}`;
              res.destroy(event.object.code === 410 ? new Expired(message) : new Error(message));
              return;
            }
            if (event.type === 'BOOKMARK') {
              this.#resourceVersion = event.object.metadata.resourceVersion ?? this.#resourceVersion;
            } else if (event.type === 'DELETED') {
              this.#delete(event.object.metadata.name);
            } else {
              this.#set(event.object);
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('close', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
  }
}
