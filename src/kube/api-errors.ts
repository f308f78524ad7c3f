// What an API call failure means for a retry. src/kube/kube-client.ts turns the client library's failures
// into ApiError with the HTTP status and the API server's Status object; a watch ERROR event carries a
// Status with `code`; network failures and timeouts have neither.
import { isPlainObject } from '../api/plain-object.ts';

/** The Status object the API server sends with a failure (metav1.Status). */
export interface ServerStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string };
}

export class ApiError extends Error {
  readonly statusCode: number;
  /** The API server's Status, when its answer was one. */
  readonly serverStatus: ServerStatus | undefined;

  /** `body` is the answer as text, or already parsed. */
  constructor(what: string, statusCode: number, body: unknown) {
    const serverStatus = readServerStatus(body);
    const text = typeof body === 'string' ? body : '';
    const said = serverStatus?.message ?? text.trim().split('\n')[0]?.slice(0, 200) ?? '';
    super(`${what}: HTTP ${statusCode}${said ? `: ${said}` : ''}`);
    this.statusCode = statusCode;
    this.serverStatus = serverStatus;
  }
}

function readServerStatus(body: unknown): ServerStatus | undefined {
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    if (!isPlainObject(parsed) || parsed.kind !== 'Status') return undefined;
    return {
      ...(typeof parsed.message === 'string' ? { message: parsed.message } : {}),
      ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}),
      ...(isPlainObject(parsed.details) ? { details: parsed.details as ServerStatus['details'] } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The HTTP status of an API failure, or undefined for network errors and timeouts. */
export function httpStatus(error: unknown): number | undefined {
  if (error instanceof ApiError) return error.statusCode;
  // A watch ERROR event's object is a Status with the code in `code`.
  if (isPlainObject(error) && typeof error.code === 'number') return error.code;
  return undefined;
}

/** A short description for logs: the API server's Status message when there is one, else the error message. */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiError) {
    return error.serverStatus?.message !== undefined
      ? `HTTP ${error.statusCode}: ${error.serverStatus.message}`
      : `HTTP ${error.statusCode}`;
  }
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${message}${cause}`;
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
