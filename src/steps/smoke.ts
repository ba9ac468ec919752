// Smoke checks after a deployment: read-only requests to the stage's url, each check `requests` times
// (a few at a time), every answer must have the expected status (redirects are not followed, so a 302
// is a status like any other) and body, and the 95th percentile latency must stay under its limit.
import type { Deadline } from '../model/deadline.js';
import type { Logger } from '../logger.js';
import { smokeLine } from '../report/smoke.js';
import type { SmokeCheck, SmokeMethod } from '../settings/stages.js';

/** Requests of one check in flight at once: enough to see latency under mild load, not a load test. */
export const SMOKE_CONCURRENCY = 4;
/** Bytes of a body read for the `body` check (and timing); the rest is not waited for. */
const BODY_LIMIT = 1024 * 1024;

export interface SmokeResult {
  method: SmokeMethod;
  path: string;
  url: string;
  /** Requests sent (fewer than configured when the run's deadline stopped the check). */
  requests: number;
  expectedStatus: number;
  /** Answers by HTTP status ("200": 18, "503": 2). */
  statuses: Record<string, number>;
  /** Requests without an answer (timeout, refused connection, reset…). */
  errors: number;
  /** Nearest-rank percentiles over the answered requests, ms; null when nothing answered. */
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  p95LimitMs: number;
  ok: boolean;
  /** One line: what failed and by how much. */
  failure?: string;
}

export interface SmokeReport {
  ok: boolean;
  checks: SmokeResult[];
}

export interface SmokeOptions {
  logger: Logger;
  signal?: AbortSignal;
  deadline?: Deadline;
}

/** Nearest-rank percentile of ascending values: the value at rank ceil(p/100 × n). */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** Runs the checks one after another (so one check's load does not slow the next) and reports each. */
export async function runSmoke(
  baseUrl: string,
  checks: SmokeCheck[],
  opts: SmokeOptions,
): Promise<SmokeReport> {
  const results: SmokeResult[] = [];
  for (const check of checks) {
    const result = await runCheck(baseUrl, check, opts);
    (result.ok ? opts.logger.info : opts.logger.warning)(smokeLine(result));
    results.push(result);
  }
  return { ok: results.every((r) => r.ok), checks: results };
}

interface Attempt {
  status?: number;
  ms?: number;
  error?: string;
  bodyMatched?: boolean;
}

async function runCheck(baseUrl: string, check: SmokeCheck, opts: SmokeOptions): Promise<SmokeResult> {
  const url = `${baseUrl.replace(/\/+$/, '')}${check.path}`;
  const attempts: Attempt[] = [];
  let next = 0;
  let stoppedByDeadline = false;
  const worker = async (): Promise<void> => {
    while (next < check.requests) {
      opts.signal?.throwIfAborted();
      if (opts.deadline?.expired()) {
        stoppedByDeadline = true;
        return;
      }
      next++;
      attempts.push(await once(url, check, opts));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SMOKE_CONCURRENCY, check.requests) }, worker));

  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const errorKinds = new Map<string, number>();
  let bodyMisses = 0;
  for (const a of attempts) {
    if (a.status !== undefined) {
      statuses[String(a.status)] = (statuses[String(a.status)] ?? 0) + 1;
      latencies.push(a.ms ?? 0);
      if (a.bodyMatched === false) bodyMisses++;
    } else {
      errorKinds.set(a.error ?? 'failed', (errorKinds.get(a.error ?? 'failed') ?? 0) + 1);
    }
  }
  latencies.sort((a, b) => a - b);
  const p95 = percentile(latencies, 95);
  const sent = attempts.length;
  const errors = sent - latencies.length;

  const failures: string[] = [];
  if (stoppedByDeadline) {
    failures.push(`stopped after ${sent} of ${check.requests} requests: the run's time budget ran out`);
  }
  const unexpected = Object.entries(statuses).filter(([s]) => Number(s) !== check.status);
  if (unexpected.length > 0) {
    const count = unexpected.reduce((n, [, c]) => n + c, 0);
    const which =
      unexpected.length === 1 ? unexpected[0][0] : unexpected.map(([s, c]) => `${s} ×${c}`).join(', ');
    failures.push(`${count} of ${sent} answered ${which} (expected ${check.status})`);
  }
  if (errors > 0) {
    const kinds = [...errorKinds].map(([k, c]) => (errorKinds.size === 1 ? k : `${k} ×${c}`)).join(', ');
    failures.push(`${errors} of ${sent} got no answer: ${kinds}`);
  }
  if (check.body !== undefined && bodyMisses > 0) {
    failures.push(
      `body does not contain ${JSON.stringify(check.body)}${sent > 1 ? ` in ${bodyMisses} of ${sent} answers` : ''}`,
    );
  }
  if (p95 !== null && p95 > check.p95Ms) {
    failures.push(
      `p95 ${p95} ms > ${check.p95Ms} ms over ${latencies.length} request${latencies.length === 1 ? '' : 's'}`,
    );
  }
  return {
    method: check.method,
    path: check.path,
    url,
    requests: sent,
    expectedStatus: check.status,
    statuses,
    errors,
    p50Ms: percentile(latencies, 50),
    p95Ms: p95,
    maxMs: latencies.length > 0 ? latencies[latencies.length - 1] : null,
    p95LimitMs: check.p95Ms,
    ok: failures.length === 0 && sent > 0,
    ...(failures.length > 0
      ? { failure: failures.join('; ') }
      : sent === 0
        ? { failure: 'no request was sent' }
        : {}),
  };
}

async function once(url: string, check: SmokeCheck, opts: SmokeOptions): Promise<Attempt> {
  const timeoutMs = Math.max(1, Math.min(check.timeoutMs, opts.deadline?.remainingMs() ?? Infinity));
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: check.method,
      redirect: 'manual',
      signal,
      headers: { 'user-agent': 'kubestage-smoke', accept: '*/*', 'cache-control': 'no-cache' },
    });
    const body = await readBody(res, check.body !== undefined);
    const ms = Math.round(performance.now() - started);
    return {
      status: res.status,
      ms,
      ...(check.body !== undefined ? { bodyMatched: body.includes(check.body) } : {}),
    };
  } catch (e) {
    // The run was cancelled: stop everything, do not report it as a failed check.
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (timeout.aborted) return { error: `timed out after ${formatMs(timeoutMs)}` };
    return { error: errorText(e) };
  }
}

/** Reads the body (up to BODY_LIMIT) so the latency covers the whole answer; returns it when wanted. */
async function readBody(res: Response, keep: boolean): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (keep) chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return keep ? Buffer.concat(chunks).toString('utf8') : '';
}

function formatMs(ms: number): string {
  return ms < 1000 || ms % 1000 !== 0 ? `${ms} ms` : `${ms / 1000}s`;
}

function errorText(e: unknown): string {
  // Duck-typed, not instanceof: fetch's errors may come from another realm (undici, test VMs).
  const err = (e ?? {}) as { message?: string; cause?: { code?: string; message?: string } };
  if (err.cause?.code) return err.cause.code === 'ECONNREFUSED' ? 'connection refused' : err.cause.code;
  if (err.cause?.message) return err.cause.message;
  return err.message ?? String(e);
}
