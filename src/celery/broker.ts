// The one transport interface the beat publishes through, chosen by the broker URL's scheme.
import type { ConnectionOptions } from 'node:tls';
import type { Broker } from '../contracts.ts';
import { createAmqpBroker } from './amqp-transport.ts';
import { brokerScheme } from './broker-url.ts';
import { createRedisBroker } from './redis-transport.ts';

export { redactUrl } from './broker-url.ts';

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
