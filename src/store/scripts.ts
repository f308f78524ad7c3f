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

/** Reply of dispatch-slots for one item; `push-failed` carries the list key's type and Redis's error. */
export type DispatchReply =
  | 'ok'
  | 'missing'
  | 'corrupt'
  | ['conflict', string]
  | ['claimed', string]
  | ['push-failed', string, string];

export type UpsertReply = ['created' | 'updated' | 'unchanged' | 'foreign' | 'fenced', string];

/** Reply of advance-epoch: the value the key holds now, ours when held. */
export type EpochReply = ['held' | 'stale', string];

interface ScriptCommands {
  cbUpsertTask(
    key: string,
    fenceKey: string,
    head: string,
    initialTail: string,
    ownerUid: string,
    operatorId: string,
    fenceToken: string,
  ): Promise<UpsertReply>;
  cbDispatchSlots(numKeys: number, ...keysAndArgs: string[]): Promise<DispatchReply[] | 'fenced'>;
  cbSettleClaim(key: string, claimedTail: string, settledTail: string): Promise<'settled' | 'changed'>;
  cbSettleManualClaim(
    recordKey: string,
    taskKey: string,
    field: string,
    claimed: string,
    outcome: 'sent' | 'released' | 'unknown',
  ): Promise<['settled', string] | ['changed']>;
  cbDeleteOwned(
    key: string,
    fenceKey: string,
    ownerUid: string,
    operatorId: string,
    keyPrefix: string,
    namespace: string,
    fenceToken: string,
  ): Promise<'deleted' | 'absent' | 'foreign' | 'fenced'>;
  cbHoldTask(
    key: string,
    fenceKey: string,
    ownerUid: string,
    operatorId: string,
    fenceToken: string,
  ): Promise<'held' | 'absent' | 'foreign' | 'fenced'>;
  cbAcquireLock(key: string, token: string, ttlMs: string): Promise<0 | 1>;
  cbReleaseLock(key: string, token: string): Promise<0 | 1>;
  cbAdvanceEpoch(key: string, epoch: string, leaseUid: string, mode: 'take' | 'keep'): Promise<EpochReply>;
  cbAdoptKey(key: string, expected: string, adopted: string): Promise<'adopted' | 'changed' | 'missing'>;
  cbRegisterOperator(
    key: string,
    id: string,
    keyPrefix: string,
    namespace: string,
    ttlMs: string,
    mode: 'start' | 'refresh',
  ): Promise<string[]>;
}

export type ScriptedRedis = StoreRedis & ScriptCommands;

const SCRIPTS: Array<[keyof ScriptCommands, string, number | undefined]> = [
  ['cbUpsertTask', 'upsert-task-2.lua', 2],
  ['cbDispatchSlots', 'dispatch-slots.lua', undefined],
  ['cbSettleClaim', 'settle-claim-1.lua', 1],
  ['cbSettleManualClaim', 'settle-manual-claim-1.lua', 2],
  ['cbDeleteOwned', 'delete-owned-2.lua', 2],
  ['cbHoldTask', 'hold-task-2.lua', 2],
  ['cbAcquireLock', 'acquire-lock-1.lua', 1],
  ['cbReleaseLock', 'release-lock-1.lua', 1],
  ['cbAdvanceEpoch', 'advance-epoch-1.lua', 1],
  ['cbAdoptKey', 'adopt-key-1.lua', 1],
  ['cbRegisterOperator', 'register-operator-1.lua', 1],
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
