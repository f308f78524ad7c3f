// Broker URLs: which transport a URL selects.
import { redactUrl } from '../observe/redact-url.ts';

export type BrokerScheme = 'redis' | 'rediss' | 'amqp' | 'amqps';

const SCHEMES: ReadonlySet<string> = new Set(['redis', 'rediss', 'amqp', 'amqps']);
/** Sentinel URLs name a Redis master through its Sentinels: the Redis transport, over the master found. */
const SENTINEL = /^(rediss?)\+sentinel:\/\/[^/?#]+/i;

/** The scheme of a broker URL; a clear error (with the URL redacted) for anything we cannot publish to. */
export function brokerScheme(url: string): BrokerScheme {
  const sentinel = SENTINEL.exec(url);
  if (sentinel) return sentinel[1]!.toLowerCase() as BrokerScheme;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `broker URL ${redactUrl(url)} is not a URL (expected redis://, rediss://, redis+sentinel://, amqp:// or amqps://)`,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!SCHEMES.has(scheme)) {
    throw new Error(
      `broker URL ${redactUrl(url)} has scheme ${scheme}://; supported: redis://, rediss://, redis+sentinel://, rediss+sentinel://, amqp://, amqps://`,
    );
  }
  if (!parsed.hostname) throw new Error(`broker URL ${redactUrl(url)} has no host`);
  return scheme as BrokerScheme;
}
