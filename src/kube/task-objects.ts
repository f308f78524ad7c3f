// Reading PeriodicTask objects off the wire. The API server has already applied the CRD schema, so this
// checks only what the cache itself relies on (identity and version); the spec is the validator's business.

import { isPlainObject } from '../api/plain-object.ts';
import { API_VERSION, KIND, type PeriodicTask } from '../api/types.ts';

export interface ListPage {
  items: PeriodicTask[];
  resourceVersion: string;
  continueToken: string | undefined;
}

export function isPeriodicTask(value: unknown): value is PeriodicTask {
  if (!isPlainObject(value) || !isPlainObject(value.metadata) || !isPlainObject(value.spec)) return false;
  const { name, namespace } = value.metadata;
  return typeof name === 'string' && name !== '' && typeof namespace === 'string';
}

/** A BOOKMARK event carries only metadata.resourceVersion. */
export function bookmarkVersion(value: unknown): string | undefined {
  if (!isPlainObject(value) || !isPlainObject(value.metadata)) return undefined;
  const version = value.metadata.resourceVersion;
  return typeof version === 'string' && version !== '' ? version : undefined;
}

/** One page of a list response; objects that are not PeriodicTasks are an API contract breach and fail the list. */
export function readListPage(raw: unknown): ListPage {
  if (!isPlainObject(raw) || !Array.isArray(raw.items) || !isPlainObject(raw.metadata)) {
    throw new Error('PeriodicTask list response has no items or metadata');
  }
  const items: PeriodicTask[] = [];
  for (const [index, item] of raw.items.entries()) {
    if (!isPeriodicTask(item))
      throw new Error(`PeriodicTask list item ${index} has no metadata.name/namespace or spec`);
    // List items omit apiVersion/kind; set them so every cached object looks the same as a watched one.
    items.push({ ...item, apiVersion: item.apiVersion ?? API_VERSION, kind: item.kind ?? KIND });
  }
  const { resourceVersion, continue: continueToken } = raw.metadata;
  return {
    items,
    resourceVersion: typeof resourceVersion === 'string' ? resourceVersion : '',
    continueToken: typeof continueToken === 'string' && continueToken !== '' ? continueToken : undefined,
  };
}
