// Standalone mode's source: PeriodicTask manifests in a directory of YAML files, re-read when they change.
// A file that stops parsing (an editor's half-written save, a typo) keeps its last good tasks, so a typo
// never deletes run state; the error is logged with the file and document.

import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeriodicTask } from '../api/types.ts';
import { API_VERSION, KIND } from '../api/types.ts';
import { TASK_ID_NAMESPACE, uuidV5 } from '../celery/task-id.ts';
import { readManifestFile } from '../cli/manifest-files.ts';
import type { TaskSource } from '../contracts.ts';
import type { Logger } from '../observe/logger.ts';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

interface FileState {
  mtimeMs: number;
  size: number;
  tasks: PeriodicTask[];
  /** The file has never parsed: its tasks are unknown, not absent. */
  unread: boolean;
}

export interface ManifestSourceOptions {
  /** Poll period: catches changes fs.watch misses (bind mounts, ConfigMap symlink swaps). */
  pollMs?: number;
}

export class ManifestDirectorySource implements TaskSource {
  readonly #dir: string;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #files = new Map<string, FileState>();
  #tasks: PeriodicTask[] = [];
  #synced = false;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;
  #scan: Promise<void> | undefined;
  #rescan = false;

  constructor(dir: string, logger: Logger, options: ManifestSourceOptions = {}) {
    this.#dir = dir;
    this.#logger = logger;
    this.#pollMs = options.pollMs ?? 2000;
  }

  async start(onChange: () => void): Promise<void> {
    await this.#scanOnce();
    this.#synced = true;
    const trigger = (): void => {
      if (this.#scan) {
        this.#rescan = true;
        return;
      }
      this.#scan = this.#scanUntilQuiet(onChange).finally(() => {
        this.#scan = undefined;
      });
    };
    try {
      this.#watcher = watch(this.#dir, trigger);
      this.#watcher.on('error', (error) =>
        this.#logger.warn({ err: error }, 'watching the manifest directory failed; polling'),
      );
    } catch (error) {
      this.#logger.warn({ err: error }, 'cannot watch the manifest directory; polling only');
    }
    this.#poll = setInterval(trigger, this.#pollMs);
    onChange();
  }

  list(): PeriodicTask[] {
    return this.#tasks;
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
    await this.#scan;
  }

  async #scanUntilQuiet(onChange: () => void): Promise<void> {
    do {
      this.#rescan = false;
      if (await this.#scanOnce()) onChange();
    } while (this.#rescan);
  }

  /** Re-reads files whose size or mtime changed; returns whether the task set changed. */
  async #scanOnce(): Promise<boolean> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => MANIFEST_FILE.test(n) && !n.startsWith('.')).sort();
    } catch (error) {
      if (!this.#synced)
        throw new Error(`cannot read manifest directory ${this.#dir}: ${(error as Error).message}`);
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
      const tasks = read ?? previous?.tasks ?? [];
      const unread = read === undefined && (previous === undefined || previous.unread);
      this.#files.set(name, { mtimeMs: info.mtimeMs, size: info.size, tasks, unread });
      changed = true;
    }
    if (changed) this.#tasks = this.#collect();
    return changed;
  }

  /** The file's tasks, or undefined when it cannot be read or parsed (the caller keeps the last good ones). */
  async #readFile(path: string): Promise<PeriodicTask[] | undefined> {
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
      if (object.kind !== KIND || object.apiVersion !== API_VERSION) {
        this.#logger.warn(
          { file: path, document: doc.index, kind: object.kind },
          `not a ${API_VERSION} ${KIND}; ignored`,
        );
        continue;
      }
      tasks.push(withIdentity(object as PeriodicTask));
    }
    return tasks;
  }

  #collect(): PeriodicTask[] {
    const byKey = new Map<string, PeriodicTask>();
    for (const [file, state] of this.#files) {
      for (const task of state.tasks) {
        const key = `${task.metadata.namespace}/${task.metadata.name}`;
        if (byKey.has(key))
          this.#logger.warn({ file, task: key }, 'PeriodicTask defined twice; the later file wins');
        byKey.set(key, task);
      }
    }
    return [...byKey.values()];
  }
}

/** Files carry no uid: derive a stable one from the name, so a restart keeps the task's identity and runs. */
function withIdentity(task: PeriodicTask): PeriodicTask {
  const metadata = task.metadata ?? { name: '' };
  const namespace = metadata.namespace ?? 'default';
  const uid = metadata.uid ?? uuidV5(TASK_ID_NAMESPACE, `standalone/${namespace}/${metadata.name}`);
  return { ...task, metadata: { ...metadata, namespace, uid, generation: metadata.generation ?? 1 } };
}
