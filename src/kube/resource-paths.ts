// The API path of PeriodicTasks (the Watch takes a path; the generated APIs build the others).
import { GROUP, PLURAL, VERSION } from '../api/types.ts';

const segment = encodeURIComponent;

/** PeriodicTasks of one namespace or of all; one of them; its status subresource. */
export function taskPath(namespace?: string, name?: string, subresource?: 'status'): string {
  const base = `/apis/${GROUP}/${VERSION}`;
  const collection =
    namespace === undefined ? `${base}/${PLURAL}` : `${base}/namespaces/${segment(namespace)}/${PLURAL}`;
  if (name === undefined) return collection;
  return `${collection}/${segment(name)}${subresource ? `/${subresource}` : ''}`;
}
