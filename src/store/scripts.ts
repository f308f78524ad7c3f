// Loads the Lua scripts in ./lua once per connection with defineCommand, resolving `-- @include name` lines
// from ./lua/includes, and gives each a typed wrapper.
import { readFileSync } from 'node:fs';
import type { StoreRedis } from './redis-connection.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);

function loadScript(fileName: string): string {
  const source = readFileSync(new URL(fileName, LUA_DIR), 'utf8');
  return source.replace(/^-- @include ([\w-]+)$/gm, (_line, name: string) =>
    readFileSync(new URL(`includes/${name}.lua`, LUA_DIR), 'utf8'),
  );
}

/** Reply of dispatch-slots for one item. */
export type DispatchReply = 'ok' | 'missing' | 'corrupt' | ['conflict', string];

export type UpsertReply = ['created' | 'updated' | 'unchanged' | 'foreign', string];

interface ScriptCommands {
  cbUpsertTask(key: string, head: string, initialTail: string, ownerUid: string): Promise<UpsertReply>;
  cbDispatchSlots(numKeys: number, ...keysAndArgs: string[]): Promise<DispatchReply[] | 'fenced'>;
  cbReleaseSlot(key: string, claimedTail: string, previousTail: string): Promise<'released' | 'changed'>;
  cbDeleteOwned(key: string, ownerUid: string): Promise<'deleted' | 'absent' | 'foreign'>;
  cbAcquireLock(key: string, token: string, ttlMs: string): Promise<0 | 1>;
  cbReleaseLock(key: string, token: string): Promise<0 | 1>;
  cbAdoptKey(key: string, expected: string, adopted: string): Promise<'adopted' | 'changed' | 'missing'>;
}

export type ScriptedRedis = StoreRedis & ScriptCommands;

const SCRIPTS: Array<[keyof ScriptCommands, string, number | undefined]> = [
  ['cbUpsertTask', 'upsert-task-1.lua', 1],
  ['cbDispatchSlots', 'dispatch-slots.lua', undefined],
  ['cbReleaseSlot', 'release-slot-1.lua', 1],
  ['cbDeleteOwned', 'delete-owned-1.lua', 1],
  ['cbAcquireLock', 'acquire-lock-1.lua', 1],
  ['cbReleaseLock', 'release-lock-1.lua', 1],
  ['cbAdoptKey', 'adopt-key-1.lua', 1],
];

let sources: Array<[keyof ScriptCommands, string, number | undefined]> | undefined;

/** Defines the operator's commands on a connection (idempotent) and returns it with their types. */
export function withScripts(redis: StoreRedis): ScriptedRedis {
  sources ??= SCRIPTS.map(([name, file, keys]) => [name, loadScript(file), keys]);
  const scripted = redis as ScriptedRedis;
  for (const [name, lua, numberOfKeys] of sources) {
    if (typeof scripted[name] !== 'function') {
      redis.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys });
    }
  }
  return scripted;
}
