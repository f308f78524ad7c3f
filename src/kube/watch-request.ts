// One watch request of the API server: its response read as a stream of JSON lines, one event each. The
// informer's watchdog decides when a quiet watch has stalled, so the request has no inactivity timeout of
// its own (a fixed one would end quiet watches between bookmarks).
import { createInterface } from 'node:readline';
import { type KubeApi, type Query, readBody } from './api-client.ts';
import { ApiError } from './api-errors.ts';

/**
 * Starts a watch of `path`. `onEvent` gets each event's type and object; `onDone` is called exactly once, with
 * the error (an HTTP error is an ApiError) or nothing when the server ended the watch. Resolves once the
 * response has started (or failed), with the controller that ends the watch.
 */
export async function watchRequest(
  api: KubeApi,
  path: string,
  query: Query,
  onEvent: (type: string, object: unknown) => void,
  onDone: (error?: unknown) => void,
): Promise<AbortController> {
  const controller = new AbortController();
  let done = false;
  const finish = (error?: unknown): void => {
    if (done) return;
    done = true;
    controller.abort();
    onDone(error);
  };
  let response: Awaited<ReturnType<KubeApi['open']>>;
  try {
    response = await api.open('GET', path, { query: { ...query, watch: true }, signal: controller.signal });
  } catch (error) {
    finish(controller.signal.aborted && done ? undefined : error);
    return controller;
  }
  if (response.statusCode !== 200) {
    // Reported before this resolves, as a failed start: the caller retries at once or backs off.
    const status = response.statusCode ?? 0;
    const body = await readBody(response).catch(() => '');
    finish(new ApiError(`watch ${path}`, status, body));
    return controller;
  }
  const lines = createInterface({ input: response, crlfDelay: Number.POSITIVE_INFINITY });
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
  response.on('error', (error) => finish(error));
  response.on('close', () => finish());
  return controller;
}
