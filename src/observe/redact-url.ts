// The one way a URL (store, broker, API server) appears in logs, errors and metrics: without its secrets.

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
