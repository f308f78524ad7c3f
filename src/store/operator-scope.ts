// Which keys under a shared Redis belong to one operator (docs/sharing-redis.md). Several operators may use
// one Redis: each writes, prunes and deletes only the keys of its own scope, so one never removes another's
// run state. delete-owned-2.lua applies the same rule atomically.
import type { Owner } from '../contracts.ts';

/** One operator (a group of replicas) and what it manages on the Redis. */
export interface OperatorScope {
  /** Recorded in each key it writes (owner.operator). */
  id: string;
  keyPrefix: string;
  /** The one namespace it watches; undefined for all. */
  namespace?: string;
}

/**
 * A key is the operator's when it sits exactly at prefix + owner's namespace/name (a key of a nested
 * prefix never does), its namespace is watched, and it carries the operator's id, or no id at all (written
 * by a version that recorded none).
 */
export function ownsKey(scope: OperatorScope, redisKey: string, owner: Owner): boolean {
  if (redisKey !== `${scope.keyPrefix}${owner.namespace}/${owner.name}`) return false;
  if (scope.namespace !== undefined && owner.namespace !== scope.namespace) return false;
  return owner.operator === undefined || owner.operator === scope.id;
}

/** The operator and its scope in one phrase, as start errors and logs name it. */
export function describeScope(scope: OperatorScope): string {
  const namespaces = scope.namespace === undefined ? 'all namespaces' : `namespace "${scope.namespace}"`;
  return `operator "${scope.id}" (key prefix "${scope.keyPrefix}", ${namespaces})`;
}
