// The one transport interface the beat publishes through, chosen by the broker URL's scheme.
import type { Broker } from '../contracts.ts';
import { createAmqpBroker } from './amqp-transport.ts';
import type { BrokerOptions } from './broker-options.ts';
import { brokerScheme } from './broker-url.ts';
import { createRedisBroker } from './redis-transport.ts';

/** A broker for `redis://`, `rediss://`, `amqp://` or `amqps://`; throws a clear error for any other URL. */
export async function createBroker(url: string, opts: BrokerOptions = {}): Promise<Broker> {
  const scheme = brokerScheme(url);
  if (scheme === 'redis' || scheme === 'rediss') return createRedisBroker(url, opts);
  return createAmqpBroker(url, opts);
}
