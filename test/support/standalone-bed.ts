// The real `run` command in standalone mode on manifest directories, against a private Redis shared by the
// tests of one file.
import { after } from 'node:test';
import type { Redis } from 'ioredis';
import { type ManifestDir, manifestDir } from './manifests.ts';
import { type OperatorProcess, startOperator } from './operator-process.ts';
import { usePrivateRedis } from './private-redis.ts';
import type { RedisServer } from './redis-server.ts';

export interface StandaloneBed {
  readonly server: RedisServer;
  /** A client on database 0 of the private Redis. */
  readonly redis: Redis;
  /** A new manifest directory, removed after the file's tests. */
  manifests(): Promise<ManifestDir>;
  /** `run --manifests <dir> --redis-url <the private Redis>`, then `flags`. */
  operator(dir: ManifestDir, flags?: readonly string[]): OperatorProcess;
}

/** Registers the file's `before` and `after` hooks; the fields can be read from the `before` hook on. */
export function useStandaloneBed(): StandaloneBed {
  const local = usePrivateRedis();
  const dirs: ManifestDir[] = [];
  after(async () => {
    for (const dir of dirs) await dir.remove();
  });
  return {
    get server() {
      return local.server;
    },
    get redis() {
      return local.redis;
    },
    manifests: async () => {
      const dir = await manifestDir();
      dirs.push(dir);
      return dir;
    },
    operator: (dir, flags = []) =>
      startOperator(['--manifests', dir.path, '--redis-url', local.server.url, ...flags]),
  };
}
