// Publishing over kombu's Redis transport: one pipelined batch of LPUSHes per publish call.
import { Redis, type RedisOptions } from 'ioredis';
import type { Broker, OutgoingMessage, PublishOutcome } from '../contracts.ts';
import { redactUrl } from '../observe/redact-url.ts';
import type { BrokerOptions } from './broker-options.ts';
import { encodeRedisEnvelope } from './redis-envelope.ts';
import { isPushable, keyTypes, notAListError } from './redis-list-check.ts';
import {
  priorityListKey,
  redisRouteFor,
  resolveRedisRoutes,
  UnroutableMessageError,
} from './redis-routing.ts';
import { redisControlPublish, revokeCommand } from './remote-control.ts';

export { encodeRedisEnvelope } from './redis-envelope.ts';
export {
  priorityListKey,
  redisRouteFor,
  resolveRedisRoutes,
  UnroutableMessageError,
} from './redis-routing.ts';

/**
 * Client settings for publishing: no offline queue and no automatic resend, so a command is either answered
 * or fails now (a resent LPUSH could deliver a run twice, a queued one could go out long after its slot).
 * The client keeps reconnecting in the background; the next publish after Redis is back succeeds.
 */
export function publisherRedisOptions(url: string, opts: BrokerOptions): RedisOptions {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    commandTimeout: opts.publishTimeoutMs ?? 10_000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (url.startsWith('rediss:')) options.tls = { ...opts.tls };
  return options;
}

/** Reconnect, without resending the refused LPUSH: the slot is retried as for any failed publish. */
function reconnectOnReadOnly(error: Error): 1 | false {
  return error.message.startsWith('READONLY') ? 1 : false;
}

/** The connection's own TLS settings win over the URL-scheme default of publisherRedisOptions. */
function tlsOf(connection: RedisOptions): RedisOptions {
  return connection.tls ? { tls: connection.tls } : {};
}

/**
 * A push Redis answered with an error, or that failed with its connection, was not delivered (retried as
 * before); one still unanswered at the publish timeout on a live connection (a frozen network, a stalled
 * server) may have been: its outcome is unknown, and it is not sent again.
 */
function pushFailed(
  url: string,
  key: string,
  error: Error | null | undefined,
  cause: string,
): PublishOutcome {
  const unanswered = error?.message === COMMAND_TIMED_OUT;
  const outcome = unanswered
    ? 'outcome unknown (no reply in time; Redis may have it)'
    : 'message not delivered';
  const failure = new Error(
    `LPUSH to ${JSON.stringify(key)} on Redis broker ${url} failed, ${outcome}: ${cause}`,
  );
  return unanswered ? { ok: false, error: failure, unknown: true } : { ok: false, error: failure };
}

/** ioredis's error for a command without a reply within `commandTimeout`. */
const COMMAND_TIMED_OUT = 'Command timed out';

function failAll(count: number, error: Error): PublishOutcome[] {
  return Array.from({ length: count }, () => ({ ok: false, error }));
}

/** A Broker over Redis. The connection is opened by the first publish, so a Redis that is down does not stop startup. */
export function createRedisBroker(url: string, opts: BrokerOptions = {}): Broker {
  const safeUrl = redactUrl(url);
  const waitMs = opts.connectTimeoutMs ?? 5000;
  // `opts.redis` (from the URL, by the composition root) reconnects when the server answers READONLY; a bare
  // URL does the same: a publish refused by a demoted master fails, and the next one may reach the master.
  const redis = opts.redis
    ? new Redis({ ...opts.redis, ...publisherRedisOptions(url, opts), ...tlsOf(opts.redis) })
    : new Redis(url, { ...publisherRedisOptions(url, opts), reconnectOnError: reconnectOnReadOnly });
  let lastError: Error | undefined;
  // Without a listener an 'error' event would crash the process; the last one explains a failed publish.
  redis.on('error', (err: Error) => {
    lastError = err;
  });

  async function ready(): Promise<void> {
    if (redis.status === 'ready') return;
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        const cause = lastError ? `: ${lastError.message}` : '';
        reject(new Error(`Redis broker ${safeUrl} is not reachable (waited ${waitMs} ms)${cause}`));
      }, waitMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  }

  async function routesOf(options: OutgoingMessage['options']): Promise<string[]> {
    try {
      return await resolveRedisRoutes(redis, options);
    } catch (err) {
      if (err instanceof UnroutableMessageError) throw err;
      throw new Error(
        `reading the bindings of exchange ${JSON.stringify(options.exchange)} from Redis broker ${safeUrl} failed, message not delivered: ${(err as Error).message}`,
      );
    }
  }

  async function publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    try {
      await ready();
    } catch (err) {
      return failAll(messages.length, err as Error);
    }
    const outcomes: PublishOutcome[] = new Array(messages.length);
    const now = Date.now();
    const routed: { keys: string[]; envelope: string }[] = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const { message, options } = messages[i] as OutgoingMessage;
      try {
        const keys = options.exchange
          ? await routesOf(options)
          : [priorityListKey(options.queue, options.priority)];
        routed[i] = { keys, envelope: encodeRedisEnvelope(message, redisRouteFor(options), now) };
        outcomes[i] = { ok: true };
      } catch (err) {
        outcomes[i] = { ok: false, error: err as Error };
      }
    }
    await refuseFanOutToNonLists(routed, outcomes);
    // One LPUSH per list with all of its envelopes, in order: `LPUSH k a b` leaves `a` nearest the consuming
    // end, so the worker takes them in publish order, as with one LPUSH each, at a fraction of the cost.
    // Each list's LPUSH succeeds or fails on its own: a key of another type fails only its messages.
    const lists = new Map<string, { envelopes: string[]; owners: number[] }>();
    routed.forEach(({ keys, envelope }, i) => {
      if (!outcomes[i]!.ok) return;
      for (const key of keys) {
        let list = lists.get(key);
        if (!list) {
          list = { envelopes: [], owners: [] };
          lists.set(key, list);
        }
        list.envelopes.push(envelope);
        list.owners.push(i);
      }
    });
    if (lists.size === 0) return outcomes;
    const pipeline = redis.pipeline();
    for (const [key, list] of lists) pipeline.lpush(key, ...list.envelopes);
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (err) {
      results = null;
      lastError = err as Error;
    }
    const refused = new Map<string, string>();
    let c = 0;
    for (const [key, list] of lists) {
      const reply = results?.[c++];
      const error = results === null ? lastError : reply?.[0];
      if (!error && reply !== undefined) continue;
      const cause = error ? error.message : 'no reply';
      if (/^WRONGTYPE/.test(cause)) refused.set(key, cause);
      for (const i of list.owners) outcomes[i] = pushFailed(safeUrl, key, error, cause);
    }
    if (refused.size > 0) await nameRefusedTypes(refused, lists, outcomes);
    return outcomes;
  }

  /**
   * A message routed to several lists (an exchange bound to several queues) goes to all of them or to none:
   * when one of its keys is not a list, it fails before anything is pushed.
   */
  async function refuseFanOutToNonLists(
    routed: { keys: string[] }[],
    outcomes: PublishOutcome[],
  ): Promise<void> {
    const fanOut = routed.flatMap((r, i) => (outcomes[i]!.ok && r.keys.length > 1 ? [i] : []));
    if (fanOut.length === 0) return;
    let types: Map<string, string>;
    try {
      types = await keyTypes(redis, [...new Set(fanOut.flatMap((i) => routed[i]!.keys))]);
    } catch (err) {
      const error = new Error(
        `reading the type of the bound queues on Redis broker ${safeUrl} failed, message not delivered: ${(err as Error).message}`,
      );
      for (const i of fanOut) outcomes[i] = { ok: false, error };
      return;
    }
    for (const i of fanOut) {
      const key = routed[i]!.keys.find((k) => !isPushable(types.get(k)!));
      if (key === undefined) continue;
      const cause = `one of the ${routed[i]!.keys.length} queues bound to the exchange, so it went to none of them`;
      outcomes[i] = { ok: false, error: notAListError(key, types.get(key)!, cause) };
    }
  }

  /** Says which type each refused list key (with Redis's error) holds, when Redis can still tell. */
  async function nameRefusedTypes(
    refused: Map<string, string>,
    lists: Map<string, { owners: number[] }>,
    outcomes: PublishOutcome[],
  ): Promise<void> {
    const types = await keyTypes(redis, [...refused.keys()]).catch(() => new Map<string, string>());
    for (const [key, cause] of refused) {
      const type = types.get(key);
      if (type === undefined || isPushable(type)) continue;
      const error = notAListError(key, type, `${cause} (Redis broker ${safeUrl})`);
      for (const i of lists.get(key)!.owners) outcomes[i] = { ok: false, error };
    }
  }

  async function revoke(taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await ready();
    const { channel, envelope } = redisControlPublish(revokeCommand(taskIds), redis.options.db ?? 0);
    await redis.publish(channel, envelope);
  }

  return {
    url: safeUrl,
    publish,
    revoke,
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
