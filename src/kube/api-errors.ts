// What an API call failure means for a retry. client-node 2.x throws ApiException with the HTTP status in
// `code` and the raw response text in `body`; the watch reports `statusCode`; network failures have neither.

/** The HTTP status of an API failure, or undefined for network errors and timeouts. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

/** A short description for logs: the API server's Status message when there is one, else the error message. */
export function describeApiError(error: unknown): string {
  const status = httpStatus(error);
  const body = typeof error === 'object' && error !== null ? (error as { body?: unknown }).body : undefined;
  if (typeof body === 'string' && body !== '') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return `HTTP ${status}: ${parsed.message}`;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return status === undefined ? `${message}${cause}` : `HTTP ${status}: ${message}`;
}

/** 401 or 403: the API server answered and refuses this identity; waiting does not fix it. */
export function isRefusal(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 401 || status === 403;
}

/** Worth retrying later: conflicts, throttling, server errors and network failures. */
export function isRetryable(error: unknown): boolean {
  const status = httpStatus(error);
  return status === undefined || status === 409 || status === 429 || status >= 500;
}
