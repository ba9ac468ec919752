// What went wrong talking to the API server, told apart the way callers need it: absent (404),
// retryable (throttled, server trouble, dropped connection) or for a person to read.
import { ApiException } from '@kubernetes/client-node';
import { parseRetryAfter } from '../retry.js';
import type { KubeStatus } from './types.js';

/** A non-2xx answer from the API server, with the verb and object that failed. */
export class KubeApiError extends ApiException<KubeStatus> {
  constructor(
    code: number,
    message: string,
    body: KubeStatus,
    headers: Record<string, string>,
    readonly method: string,
    readonly path: string,
  ) {
    super(code, message, body, headers);
    // ApiException's own message appends the body and every header ("HTTP-Code: … Headers: {…}"),
    // which would reach the log and the PR comment: keep the one line.
    this.message = message;
    this.name = 'KubeApiError';
  }
}

/** The HTTP status of an API error, or undefined for network errors and everything else. */
export function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const c = (e as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** A dropped or refused connection: the request may or may not have reached the server. */
export function isNetworkError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const err = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) return true;
    if (
      typeof err.message === 'string' &&
      /socket hang up|fetch failed|other side closed|ECONNRESET/i.test(err.message)
    )
      return true;
    cur = err.cause;
  }
  return false;
}

/** The innermost code and message of a network error ("ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1"). */
export function networkCause(e: unknown): string {
  let last = e instanceof Error ? e.message : String(e);
  let code: string | undefined;
  for (let cur: unknown = e, depth = 0; cur && depth < 6; depth++) {
    const err = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof err.code === 'string') code = err.code;
    if (typeof err.message === 'string' && err.message) last = err.message;
    cur = err.cause;
  }
  return code && !last.includes(code) ? `${code}: ${last}` : last;
}

/** Worth retrying for an idempotent request: throttled, server-side trouble or a dropped connection. */
export function isRetryableKubeError(e: unknown): boolean {
  const code = statusOf(e);
  if (code !== undefined) return code === 429 || code === 500 || code === 502 || code === 503 || code === 504;
  return isNetworkError(e);
}

/** How long the server asked us to wait (Retry-After, or a 429 Status's retryAfterSeconds), in ms. */
export function retryAfterOf(e: unknown): number | undefined {
  if (!(e instanceof ApiException)) return undefined;
  const headers = (e.headers ?? {}) as Record<string, string>;
  const fromHeader = parseRetryAfter(headers['retry-after'] ?? headers['Retry-After']);
  if (fromHeader !== undefined) return fromHeader;
  const seconds = (e.body as KubeStatus | undefined)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}

/** Short API-server message for an error: the Status message plus 422 field causes. */
export function describeApiError(e: unknown): string {
  // Rejected credentials: the client already said it in one line, naming the user and the fix.
  if (e instanceof KubeApiError && e.code === 401) return e.message;
  if (e instanceof ApiException) {
    const body = e.body as KubeStatus | undefined;
    const msg = body?.message ?? (typeof e.body === 'string' ? e.body : '');
    const causes = (body?.details?.causes ?? [])
      .map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? ''}`)
      .filter((c) => c !== '' && !msg.includes(c));
    return [`HTTP ${e.code}${body?.reason ? ` ${body.reason}` : ''}${msg ? `: ${msg}` : ''}`, ...causes].join(
      '; ',
    );
  }
  return e instanceof Error ? e.message : String(e);
}

/** Discovery does not list this apiVersion/kind (typo, or a CRD not installed or not established yet). */
export class UnknownKindError extends Error {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(
      `the API server does not serve kind ${kind} in ${apiVersion}; check the apiVersion, or install the CRD that defines it before this object`,
    );
    this.name = 'UnknownKindError';
  }
}
