// Connection settings shared by the transports (its own module, so the transports need not import the
// factory that chooses between them).
import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';

export interface BrokerOptions {
  /** Extra TLS settings for rediss:// and amqps:// (CA, client certificate, servername). */
  tls?: ConnectionOptions;
  /**
   * A Redis broker's connection (server or Sentinels, credentials, database, TLS), as the composition root
   * reads it from the URL; when absent the URL is handed to ioredis as it is.
   */
  redis?: RedisOptions;
  /** How long a connection attempt, or a publish waiting for a (re)connection, may take. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long a publish may wait for the broker's answer (Redis reply, RabbitMQ confirm) before its messages are
   * reported as not delivered, e.g. while RabbitMQ blocks publishers on a resource alarm. Default 10000 ms.
   */
  publishTimeoutMs?: number;
}
