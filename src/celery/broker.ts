// The one transport interface the beat publishes through, chosen by the broker URL's scheme.
import type { ConnectionOptions } from 'node:tls';
import type { TaskOptions } from '../api/types.ts';
import { createAmqpBroker } from './amqp-transport.ts';
import { brokerScheme } from './broker-url.ts';
import type { TaskMessage } from './message.ts';
import { createRedisBroker } from './redis-transport.ts';

export { redactUrl } from './broker-url.ts';

export interface OutgoingMessage {
  message: TaskMessage;
  /** Routing (queue, exchange, routingKey, priority); the rest of the options are already in the message. */
  options: TaskOptions;
}

/** `ok: true` only when the broker has the message (Redis replied to LPUSH; RabbitMQ confirmed it). */
export type PublishOutcome = { ok: true } | { ok: false; error: Error };

export interface Broker {
  /** The broker URL without credentials, for logs. */
  readonly url: string;
  /**
   * Publishes the messages, one outcome per message in the same order. Never throws for a message-level or
   * connection problem: a message whose outcome is not ok was not delivered (or, if the connection dropped
   * after the broker received it, may have been: the per-slot task id lets workers de-duplicate).
   */
  publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]>;
  close(): Promise<void>;
}

export interface BrokerOptions {
  /** Extra TLS settings for rediss:// and amqps:// (CA, client certificate, servername). */
  tls?: ConnectionOptions;
  /** How long a connection attempt, or a publish waiting for a (re)connection, may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a publish may wait for the broker's answer (Redis reply, RabbitMQ confirm) before its messages are
   * reported as not delivered, e.g. while RabbitMQ blocks publishers on a resource alarm. Default 10000 ms.
   */
  publishTimeoutMs?: number;
}

/** A broker for `redis://`, `rediss://`, `amqp://` or `amqps://`; throws a clear error for any other URL. */
export async function createBroker(url: string, opts: BrokerOptions = {}): Promise<Broker> {
  const scheme = brokerScheme(url);
  if (scheme === 'redis' || scheme === 'rediss') return createRedisBroker(url, opts);
  return createAmqpBroker(url, opts);
}
