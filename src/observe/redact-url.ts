// The one way a URL (store, broker, API server) appears in logs, errors and metrics: without its secrets.

const SECRET_PARAMS = /^(?:\w+_)?(password|pass|secret|token)$/i;

/** The URL with its password (and secret query parameters) replaced by `***`; never throws, never leaks. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactHostList(url) ?? '<unparseable URL>';
  }
  if (parsed.password) parsed.password = '***';
  // `redis://secret@host` is read by some clients as a password without a user name.
  else if (parsed.username) parsed.username = '***';
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

/**
 * A URL with several hosts (`redis+sentinel://:pw@h1:26379,h2:26379/mymaster`, cluster seeds), which the
 * WHATWG parser rejects: redacted with the host list swapped out for one host and put back afterwards.
 */
function redactHostList(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:([^@/?#]*)@)?([^/?#]*,[^/?#]*)(.*)$/i.exec(url);
  if (!m) return undefined;
  const [, scheme, userinfo, hosts, rest] = m;
  const placeholder = 'redacted-host.invalid';
  const single = redactUrl(`${scheme}${userinfo === undefined ? '' : `${userinfo}@`}${placeholder}${rest}`);
  return single.includes(placeholder) ? single.replace(placeholder, hosts!) : undefined;
}
