// Where a message goes on kombu's Redis transport: the list key(s) it is LPUSHed to.
// Default: the anonymous exchange "" with the queue name as routing key, i.e. the queue's own list. With an
// explicit exchange, kombu looks the routing key up in the set `_kombu.binding.<exchange>`; when nothing
// matches it drops the message silently, which we turn into an error.
import type { Redis } from 'ioredis';
import type { TaskOptions } from '../api/types.ts';

/** kombu's separator between a queue name and its priority bucket, and between binding fields. */
export const KOMBU_SEP = '\x06\x16';
const PRIORITY_STEPS = [0, 3, 6, 9] as const;
const BINDINGS_TTL_MS = 5000;

export interface RedisRoute {
  exchange: string;
  routingKey: string;
}

/** `delivery_info` of a message: the anonymous exchange and the queue, unless an exchange is given. */
export function redisRouteFor(options: TaskOptions): RedisRoute {
  const exchange = options.exchange ?? '';
  if (exchange === '') return { exchange: '', routingKey: options.queue };
  return { exchange, routingKey: options.routingKey || options.queue };
}

/**
 * The list of `queue` that holds messages of `priority`: kombu clamps to 0..9 and rounds down to 0/3/6/9;
 * bucket 0 is the plain queue list. On Redis a lower number is consumed first.
 */
export function priorityListKey(queue: string, priority = 0): string {
  const clamped = Number.isInteger(priority) ? Math.min(9, Math.max(0, priority)) : 0;
  let step = 0;
  for (const s of PRIORITY_STEPS) if (clamped >= s) step = s;
  return step === 0 ? queue : `${queue}${KOMBU_SEP}${step}`;
}

interface Binding {
  routingKey: string;
  /** Non-empty for topic bindings: the regular expression kombu compiled from the binding key. */
  pattern: RegExp | undefined;
  queue: string;
}

interface CachedBindings {
  bindings: Binding[];
  fetchedAt: number;
}

const bindingCache = new WeakMap<Redis, Map<string, CachedBindings>>();

function parseBinding(member: string): Binding | undefined {
  const parts = member.split(KOMBU_SEP);
  if (parts.length !== 3) return undefined;
  const [routingKey = '', pattern = '', queue = ''] = parts;
  let regex: RegExp | undefined;
  if (pattern !== '') {
    try {
      regex = new RegExp(pattern);
    } catch {
      return undefined;
    }
  }
  return { routingKey, pattern: regex, queue };
}

async function bindingsOf(redis: Redis, exchange: string, refresh: boolean): Promise<Binding[]> {
  let perClient = bindingCache.get(redis);
  if (!perClient) {
    perClient = new Map();
    bindingCache.set(redis, perClient);
  }
  const cached = perClient.get(exchange);
  if (!refresh && cached && Date.now() - cached.fetchedAt < BINDINGS_TTL_MS) return cached.bindings;
  const members = await redis.smembers(`_kombu.binding.${exchange}`);
  const bindings = members.map(parseBinding).filter((b): b is Binding => b !== undefined);
  // An empty set is not cached: a worker that starts and binds the queue must be seen at once.
  if (bindings.length > 0) perClient.set(exchange, { bindings, fetchedAt: Date.now() });
  else perClient.delete(exchange);
  return bindings;
}

/** Thrown when kombu would route a message nowhere: publishing it would lose it silently. */
export class UnroutableMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnroutableMessageError';
  }
}

/**
 * The Redis list keys a message with these options is pushed to (one per matching queue, with its priority
 * suffix). Bindings of an explicit exchange are read from `_kombu.binding.<exchange>` and cached for a few
 * seconds; `refresh: true` reads them again. Direct bindings (empty pattern) match the routing key exactly;
 * topic bindings match with their stored pattern, as kombu does. Throws UnroutableMessageError when no binding
 * matches.
 */
export async function resolveRedisRoutes(
  redis: Redis,
  options: TaskOptions,
  { refresh = false }: { refresh?: boolean } = {},
): Promise<string[]> {
  const route = redisRouteFor(options);
  if (route.exchange === '') return [priorityListKey(options.queue, options.priority)];
  const bindings = await bindingsOf(redis, route.exchange, refresh);
  const queues = new Set<string>();
  for (const b of bindings) {
    const matches = b.pattern ? b.pattern.test(route.routingKey) : b.routingKey === route.routingKey;
    if (matches) queues.add(b.queue);
  }
  if (queues.size === 0) {
    throw new UnroutableMessageError(
      `no queue is bound to exchange ${JSON.stringify(route.exchange)} with routing key ` +
        `${JSON.stringify(route.routingKey)} (set _kombu.binding.${route.exchange} has ${bindings.length} ` +
        'binding(s)); kombu would drop the message silently, so it was not sent',
    );
  }
  return [...queues].map((q) => priorityListKey(q, options.priority));
}
