// Bounded retry with full-jitter exponential backoff, used at the call sites that talk to flaky
// remote APIs (the Kubernetes API server, HTTP probes). One helper instead of scattered sleeps.

export interface RetryOptions {
  /** Total tries including the first one; 1 means no retry. */
  attempts: number;
  /** Backoff base: the wait before retry n is random in [0, min(maxMs, baseMs * 2^(n-1))]. */
  baseMs: number;
  /** Upper bound for any single wait, Retry-After included. */
  maxMs: number;
  isRetryable(e: unknown): boolean;
  /** A server-requested wait (Retry-After), used instead of the jittered backoff when present. */
  retryAfterMs?(e: unknown): number | undefined;
  onRetry?(e: unknown, attempt: number, waitMs: number): void;
  sleep?: (ms: number) => Promise<void>;
  /** Random source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `attempt` (1-based), full jitter as in the AWS architecture blog. */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn(attempt)` (attempt starts at 1) until it resolves, a non-retryable error is thrown, or
 * `attempts` tries are used up; the last error is rethrown unchanged so callers can still inspect it.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.attempts));
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= attempts || !opts.isRetryable(e)) throw e;
      const requested = opts.retryAfterMs?.(e);
      const waitMs =
        requested !== undefined && Number.isFinite(requested) && requested >= 0
          ? Math.min(opts.maxMs, requested)
          : backoffMs(attempt, opts.baseMs, opts.maxMs, opts.random);
      opts.onRetry?.(e, attempt, waitMs);
      await sleep(waitMs);
    }
  }
}

/** Parses an HTTP Retry-After value (delta-seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  value: string | undefined | null,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
