// kombu's Redis envelope: the JSON text LPUSHed to a queue list.
import { randomUUID } from 'node:crypto';
import type { TaskMessage } from '../contracts.ts';
import { checkTaskMessage } from './message-check.ts';
import type { RedisRoute } from './redis-routing.ts';

/**
 * The envelope of one message, checked first (checkTaskMessage: throws UnsafeMessageError rather than produce
 * something that could crash a worker). The body travels base64-encoded; `delivery_tag` is a fresh uuid4 per
 * envelope because workers key their unacked hash by it.
 */
export function encodeRedisEnvelope(
  message: TaskMessage,
  route: RedisRoute,
  now: number = Date.now(),
): string {
  checkTaskMessage(message, now);
  const p = message.properties;
  const properties: Record<string, unknown> = { correlation_id: p.correlation_id, reply_to: p.reply_to };
  properties.delivery_mode = p.delivery_mode;
  if (p.expiration !== undefined) properties.expiration = p.expiration;
  properties.delivery_info = { exchange: route.exchange, routing_key: route.routingKey };
  properties.priority = p.priority;
  properties.body_encoding = 'base64';
  properties.delivery_tag = randomUUID();
  return JSON.stringify({
    body: Buffer.from(message.body, 'utf8').toString('base64'),
    'content-encoding': message.contentEncoding,
    'content-type': message.contentType,
    headers: message.headers,
    properties,
  });
}
