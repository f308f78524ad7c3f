// Standalone mode's source: PeriodicTask manifests in a directory of YAML files, re-read when they change.
// A file that stops parsing (an editor's half-written save, a typo) keeps its last good tasks, so a typo
// never deletes run state; the error is logged with the file and document. A document meant as a
// PeriodicTask but invalid (a misspelt apiVersion, a bad field) is passed on as it is: the reconciler reports
// it and keeps its key. A task that disappears and comes back within a short window (a file truncated and
// rewritten in place, an editor's save-by-rename, `git checkout`) is an update, not a removal and a re-creation.
// The directory's PeriodicTaskPolicy documents are its policies; a policy that does not read makes its file
// unreadable too, so the file's last good policies stay in force. A namespace's only label here is
// kubernetes.io/metadata.name, as the API server sets it.

import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { leanCopy } from '../api/lean-object.ts';
import type { PeriodicTask, PeriodicTaskPolicy } from '../api/types.ts';
import { taskKeyOf, writtenNamespace } from '../api/types.ts';
import { projectUuid } from '../api/uuid-v5.ts';
import type { PolicySource, TaskSource } from '../contracts.ts';
import { isPeriodicTaskDocument, isPolicyDocument, readManifestFile } from '../manifests/manifest-file.ts';
import type { Logger } from '../observe/logger.ts';
import { readPolicy } from '../policy/read-policy.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

interface FileState {
  mtimeMs: number;
  size: number;
  tasks: PeriodicTask[];
  policies: PeriodicTaskPolicy[];
  /** The file has never parsed: its tasks are unknown, not absent. */
  unread: boolean;
}

export interface ManifestSourceOptions {
  /** Poll period: catches changes fs.watch misses (bind mounts, ConfigMap symlink swaps). */
  pollMs?: number;
  /** How long a task that vanished from the files is kept in case it comes back (default 3 s). */
  removalGraceMs?: number;
  clock?: () => number;
}

export class ManifestDirectorySource implements TaskSource {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #removalGraceMs: number;
  readonly #clock: () => number;
  readonly #files = new Map<string, FileState>();
  #tasks: PeriodicTask[] = [];
  #policies: PeriodicTaskPolicy[] = [];
  #onPolicyChange: () => void = () => {};
  /** By key, built when first asked for after a change (only retries of single tasks ask). */
  #byKey: Map<string, PeriodicTask> | undefined;
  #synced = false;
  /** Every file has been read once (a scan that could list the directory completed). */
  #read = false;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #scan: Promise<void> | undefined;
  #rescan = false;
  #trigger: () => void = () => {};
  #graceTimer: NodeJS.Timeout | undefined;
  /** Tasks no file holds any more, kept until the removal grace has passed, by task key. */
  readonly #lost = new Map<string, { task: PeriodicTask; since: number }>();

  constructor(dir: string, logger: Logger, options: ManifestSourceOptions = {}) {
    this.#dir = dir;
    this.#logger = logger;
    this.#pollMs = options.pollMs ?? 2000;
    this.#removalGraceMs = options.removalGraceMs ?? 3000;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Resolves once the directory is known to be readable; the files are read after (many files take long,
   * and a new leader dispatches from the store meanwhile): synced once every file has been read.
   */
  async start(onChange: () => void): Promise<void> {
    try {
      await readdir(this.#dir);
    } catch (error) {
      throw new Error(`cannot read manifest directory ${this.#dir}: ${(error as Error).message}`);
    }
    const trigger = (): void => {
      if (this.#scan) {
        this.#rescan = true;
        return;
      }
      this.#scan = this.#scanUntilQuiet(onChange).finally(() => {
        this.#scan = undefined;
      });
    };
    this.#trigger = trigger;
    try {
      this.#watcher = watch(this.#dir, trigger);
      this.#watcher.on('error', (error) =>
        this.#logger.warn({ err: error }, 'watching the manifest directory failed; polling'),
      );
    } catch (error) {
      this.#logger.warn({ err: error }, 'cannot watch the manifest directory; polling only');
    }
    this.#poll = setInterval(trigger, this.#pollMs);
    trigger();
  }

  list(): PeriodicTask[] {
    return this.#tasks;
  }

  /** The directory's policies, read by the same scans as its tasks (started and stopped with them). */
  readonly policySource: PolicySource = {
    start: async (onChange) => {
      this.#onPolicyChange = onChange;
    },
    policies: () => this.#policies,
    namespaceLabels: (namespace) => ({ 'kubernetes.io/metadata.name': namespace }),
    synced: () => this.#synced,
    stop: async () => {
      this.#onPolicyChange = () => {};
    },
  };

  get(key: string): PeriodicTask | undefined {
    this.#byKey ??= new Map(this.#tasks.map((t) => [taskKeyOf(t), t]));
    return this.#byKey.get(key);
  }

  synced(): boolean {
    return this.#synced;
  }

  complete(): boolean {
    for (const file of this.#files.values()) if (file.unread) return false;
    return true;
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    clearInterval(this.#poll);
    clearTimeout(this.#graceTimer);
    this.#trigger = () => {};
    await this.#scan;
  }

  async #scanUntilQuiet(onChange: () => void): Promise<void> {
    do {
      this.#rescan = false;
      const changed = await this.#scanOnce();
      if (!this.#synced && this.#read) {
        this.#synced = true;
        this.#logger.info({ files: this.#files.size, tasks: this.#tasks.length }, 'manifests read');
        onChange();
      } else if (changed) onChange();
    } while (this.#rescan);
  }

  /** Re-reads files whose size or mtime changed; returns whether the task set changed. */
  async #scanOnce(): Promise<boolean> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => MANIFEST_FILE.test(n) && !n.startsWith('.')).sort();
    } catch (error) {
      this.#logger.error(
        { err: error, dir: this.#dir },
        'cannot read the manifest directory; keeping the last tasks',
      );
      return false;
    }
    let changed = false;
    const present = new Set(names);
    for (const name of [...this.#files.keys()]) {
      if (!present.has(name)) {
        this.#files.delete(name);
        changed = true;
      }
    }
    for (const name of names) {
      const path = join(this.#dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) continue;
      const previous = this.#files.get(name);
      if (previous && previous.mtimeMs === info.mtimeMs && previous.size === info.size) continue;
      const read = await this.#readFile(path);
      const tasks = read?.tasks ?? previous?.tasks ?? [];
      const policies = read?.policies ?? previous?.policies ?? [];
      const unread = read === undefined && (previous === undefined || previous.unread);
      this.#files.set(name, { mtimeMs: info.mtimeMs, size: info.size, tasks, policies, unread });
      changed = true;
    }
    this.#read = true;
    if (!changed && this.#lost.size === 0) return false;
    const before = this.#tasks;
    this.#tasks = this.#collect();
    const policies = [...this.#files.values()].flatMap((file) => file.policies);
    if (JSON.stringify(policies) !== JSON.stringify(this.#policies)) {
      this.#policies = policies;
      this.#onPolicyChange();
    }
    this.#byKey = undefined;
    return changed || this.#tasks.length !== before.length;
  }

  /** The file's tasks and policies, or undefined when it cannot be read or parsed (the caller keeps the last good ones). */
  async #readFile(
    path: string,
  ): Promise<{ tasks: PeriodicTask[]; policies: PeriodicTaskPolicy[] } | undefined> {
    let documents: Awaited<ReturnType<typeof readManifestFile>>;
    try {
      documents = await readManifestFile(path);
    } catch (error) {
      this.#logger.error(
        { file: path, err: error },
        'cannot read manifest file; keeping its last good tasks',
      );
      return undefined;
    }
    const tasks: PeriodicTask[] = [];
    const policies: PeriodicTaskPolicy[] = [];
    for (const doc of documents) {
      if (doc.error !== undefined) {
        this.#logger.error(
          { file: path, document: doc.index, reason: doc.error },
          'manifest does not parse; keeping the last good tasks of this file',
        );
        return undefined;
      }
      const object = doc.object as Partial<PeriodicTask> | null;
      if (object === null || object === undefined) continue;
      if (isPolicyDocument(object)) {
        const reading = readPolicy(object);
        if (!reading.ok) {
          this.#logger.error(
            {
              file: path,
              document: doc.index,
              reason: reading.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
            },
            'PeriodicTaskPolicy is invalid; keeping the last good tasks and policies of this file',
          );
          return undefined;
        }
        policies.push(reading.policy);
        continue;
      }
      // Another kind shares the file: not ours. A PeriodicTask with a bad apiVersion is still a task.
      if (!isPeriodicTaskDocument(object)) continue;
      const name = object.metadata?.name;
      if (typeof name !== 'string' || name === '') {
        // Which task it means is unknown, so the file counts as unreadable: nothing it held is removed.
        this.#logger.error(
          { file: path, document: doc.index, reason: 'metadata.name: Required value' },
          'PeriodicTask without a name; keeping the last good tasks of this file',
        );
        return undefined;
      }
      tasks.push(leanCopy(withIdentity(object as PeriodicTask), { flatten: true }));
    }
    return { tasks, policies };
  }

  /** Scans again once a vanished task's grace has passed. */
  #recheckAt(delayMs: number): void {
    if (this.#graceTimer) return;
    this.#graceTimer = setTimeout(() => {
      this.#graceTimer = undefined;
      this.#trigger();
    }, delayMs);
  }

  #collect(): PeriodicTask[] {
    const byKey = new Map<string, PeriodicTask>();
    for (const [file, state] of this.#files) {
      for (const task of state.tasks) {
        const key = taskKeyOf(task);
        if (byKey.has(key))
          this.#logger.warn({ file, task: key }, 'PeriodicTask defined twice; the later file wins');
        byKey.set(key, task);
      }
    }
    const now = this.#clock();
    for (const task of this.#tasks) {
      const key = taskKeyOf(task);
      if (!byKey.has(key) && !this.#lost.has(key)) this.#lost.set(key, { task, since: now });
    }
    for (const [key, { task, since }] of this.#lost) {
      if (byKey.has(key) || now - since >= this.#removalGraceMs) this.#lost.delete(key);
      else {
        byKey.set(key, task);
        this.#recheckAt(since + this.#removalGraceMs - now);
      }
    }
    return [...byKey.values()];
  }
}

/** Files carry no uid: derive a stable one from the name, so a restart keeps the task's identity and runs. */
function withIdentity(task: PeriodicTask): PeriodicTask {
  const metadata = task.metadata ?? { name: '' };
  // `namespace: ""` means the default namespace, as it does for kubectl ("" names hand-written Redis keys).
  const namespace = writtenNamespace(metadata.namespace);
  const uid = metadata.uid ?? projectUuid(`standalone/${namespace}/${metadata.name}`);
  return { ...task, metadata: { ...metadata, namespace, uid, generation: metadata.generation ?? 1 } };
}
