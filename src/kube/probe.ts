// The optional health check before a preview is called ready: GET <url><path> until it answers 2xx
// (after redirects) or the time runs out. Ingress controllers and DNS take a while to pick up a
// new host, so early failures (404 from the default backend, connection refused) are retried.
import type { Logger } from '../logger.js';
import { backoffMs, defaultSleep } from '../retry.js';

export interface ProbeOptions {
  path: string;
  /** Overall budget across all attempts. */
  timeoutMs: number;
  attempts: number;
  logger: Logger;
  /** Per-request limit; default min(10 s, what is left of the budget). */
  requestTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ProbeResult {
  ok: boolean;
  status?: number;
  error?: string;
}

export function joinUrl(url: string, path: string): string {
  if (!path) return url;
  return `${url.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export async function probeUrl(url: string, opts: ProbeOptions): Promise<ProbeResult> {
  const target = joinUrl(url, opts.path);
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = Date.now() + opts.timeoutMs;
  let last: ProbeResult = { ok: false, error: 'not attempted' };
  for (let attempt = 1; attempt <= Math.max(1, opts.attempts); attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const res = await fetch(target, {
        redirect: 'follow',
        signal: AbortSignal.timeout(Math.min(opts.requestTimeoutMs ?? 10_000, left)),
      });
      await res.body?.cancel().catch(() => undefined);
      last = { ok: res.status >= 200 && res.status < 300, status: res.status };
      if (last.ok) return last;
      opts.logger.debug(`GET ${target} → HTTP ${res.status} (attempt ${attempt})`);
    } catch (e) {
      last = { ok: false, error: errorText(e) };
      opts.logger.debug(`GET ${target} failed (attempt ${attempt}): ${last.error}`);
    }
    if (attempt < opts.attempts) {
      const wait = Math.min(
        Math.max(0, deadline - Date.now()),
        Math.max(500, backoffMs(attempt, 1000, 10_000)),
      );
      if (wait <= 0) break;
      await sleep(wait);
    }
  }
  return last;
}

function errorText(e: unknown): string {
  // Duck-typed, not instanceof: fetch's errors may come from another realm (undici, test VMs).
  const err = (e ?? {}) as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timed out';
  if (err.cause?.code) return `${err.cause.code}${err.cause.message ? ` (${err.cause.message})` : ''}`;
  if (err.cause?.message) return `${err.message ?? 'failed'} (${err.cause.message})`;
  return err.message ?? String(e);
}
