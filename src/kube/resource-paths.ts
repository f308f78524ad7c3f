// The API paths the operator and the plugin use, in one place.
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

/** The Leases of a namespace, or one of them. */
export function leasePath(namespace: string, name?: string): string {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${segment(namespace)}/leases`;
  return name === undefined ? collection : `${collection}/${segment(name)}`;
}

/** Where Events about objects of a namespace are created. */
export function eventsPath(namespace: string): string {
  return `/apis/events.k8s.io/v1/namespaces/${segment(namespace)}/events`;
}
