// Broker URLs: which transport a URL selects, and the form of it that may appear in logs and errors.

export type BrokerScheme = 'redis' | 'rediss' | 'amqp' | 'amqps';

const SCHEMES: ReadonlySet<string> = new Set(['redis', 'rediss', 'amqp', 'amqps']);
const SECRET_PARAMS = /^(password|pass|secret|token)$/i;

/** The URL with its password (and secret query parameters) replaced by `***`; never throws, never leaks. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparseable URL>';
  }
  if (parsed.password) parsed.password = '***';
  // `redis://secret@host` is read by some clients as a password without a user name.
  else if (parsed.username) parsed.username = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

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
