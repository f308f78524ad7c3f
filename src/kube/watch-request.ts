// One watch request of the API server over node:https, with the kubeconfig's own TLS settings and credentials
// (KubeConfig.applyToHTTPSOptions, a public API). The informer's watchdog decides when a quiet watch has
// stalled, so the request has no inactivity timeout of its own: client-node's Watch cuts a watch after a fixed,
// private 30 s without bytes, which would end quiet watches between bookmarks.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';

export type WatchQuery = Record<string, string | number | boolean | undefined>;

/**
 * Starts a watch of `path`. `onEvent` gets each event's type and object; `onDone` is called exactly once, with
 * the error (an HTTP error carries `statusCode`) or nothing when the server ended the watch. Resolves once the
 * response has started (or failed), with the controller that ends the watch.
 */
export async function watchRequest(
  kc: KubeConfig,
  path: string,
  query: WatchQuery,
  onEvent: (type: string, object: unknown) => void,
  onDone: (error?: unknown) => void,
): Promise<AbortController> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + path);
  url.searchParams.set('watch', 'true');
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const options: RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(options);
  const controller = new AbortController();
  let done = false;
  const finish = (error?: unknown): void => {
    if (done) return;
    done = true;
    controller.abort();
    onDone(error);
  };
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve) => {
    const req = send(url, { ...options, signal: controller.signal }, (res) => {
      if (res.statusCode !== 200) {
        const status = res.statusCode ?? 0;
        res.resume();
        finish(
          Object.assign(new Error(`HTTP ${status} ${res.statusMessage ?? ''}`.trim()), {
            statusCode: status,
          }),
        );
        resolve(controller);
        return;
      }
      const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => {
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as { type?: unknown; object?: unknown };
        } catch {
          return; // a line cut by a dropped connection: the watch ends and is resumed from the last version
        }
        if (typeof event.type === 'string') onEvent(event.type, event.object);
      });
      // readline re-emits the response's errors (a reset, our own abort): both must be listened to.
      lines.on('error', (error) => finish(error));
      res.on('error', (error) => finish(error));
      res.on('close', () => finish());
      resolve(controller);
    });
    req.on('error', (error) => {
      finish(controller.signal.aborted && done ? undefined : error);
      resolve(controller);
    });
    req.end();
  });
}
