// The one transport interface the beat publishes through, chosen by the broker URL's scheme. The AMQP
// client is loaded only for an AMQP broker (several MB resident that a Redis broker does not need).
import type { Broker } from '../contracts.ts';
import type { BrokerOptions } from './broker-options.ts';
import { brokerScheme } from './broker-url.ts';
import { createRedisBroker } from './redis-transport.ts';

/** A broker for `redis://`, `rediss://`, `amqp://` or `amqps://`; throws a clear error for any other URL. */
export async function createBroker(url: string, opts: BrokerOptions = {}): Promise<Broker> {
  const scheme = brokerScheme(url);
  if (scheme === 'redis' || scheme === 'rediss') return createRedisBroker(url, opts);
  const { createAmqpBroker } = await import('./amqp-transport.ts');
  return createAmqpBroker(url, opts);
}
