// Standalone mode's broker Secrets: a policy's `secretKeyRef` {name, key} is the file <dir>/<name>/<key>,
// the layout of a Kubernetes Secret mounted as a volume (and of a directory per Secret anywhere else).
// Without --secrets-dir there is nowhere to read them, and a policy naming a broker holds its tasks back.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretLookup } from '../contracts.ts';

export class SecretFiles implements SecretLookup {
  readonly #dir: string | undefined;

  constructor(dir: string | undefined) {
    this.#dir = dir;
  }

  async read(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    if (this.#dir === undefined) throw new Error('no --secrets-dir is given');
    const dir = join(this.#dir, name);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(
        `cannot list ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const keys: Record<string, string> = {};
    // A mounted Secret also holds ..data and dated directories: only the keys' own names are read.
    for (const key of entries.filter((e) => !e.startsWith('..'))) {
      try {
        keys[key] = await readFile(join(dir, key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EISDIR') throw error;
      }
    }
    return keys;
  }

  describe(name: string): string {
    return this.#dir === undefined
      ? `Secret ${name} (no --secrets-dir)`
      : `Secret file ${join(this.#dir, name)}`;
  }
}
