// Broker URLs: which transport a URL selects.
import { redactUrl } from '../observe/redact-url.ts';

export type BrokerScheme = 'redis' | 'rediss' | 'amqp' | 'amqps';

const SCHEMES: ReadonlySet<string> = new Set(['redis', 'rediss', 'amqp', 'amqps']);
/** The scheme of a broker URL; a clear error (with the URL redacted) for anything we cannot publish to. */
export function brokerScheme(url: string): BrokerScheme {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `broker URL ${redactUrl(url)} is not a URL (expected redis://, rediss://, amqp:// or amqps://)`,
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!SCHEMES.has(scheme)) {
    throw new Error(
      `broker URL ${redactUrl(url)} has scheme ${scheme}://; supported: redis://, rediss://, amqp://, amqps://`,
    );
  }
  if (!parsed.hostname) throw new Error(`broker URL ${redactUrl(url)} has no host`);
  return scheme as BrokerScheme;
}
