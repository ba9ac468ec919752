// The one place that builds an Octokit: retries, rate-limit handling and error messages live here so
// every call site (comment, deployments, pulls) gets the same behaviour without its own loops.
import { getOctokit } from '@actions/github';
import type { Octokit } from '@octokit/core';
import type { OctokitOptions } from '@octokit/core/types';
import { retry, type RetryPlugin } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
// The throttling plugin paces writes with module-global limiters (1 s between writes, 3 s between
// comment posts). Tests scale those waits down, which needs limiters of our own; bottleneck (light
// build) is the library both plugins already load.
import Bottleneck from 'bottleneck/light.js';
import type { Logger } from '../logger.js';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface GitHubClientOptions {
  token: string;
  /** REST API root; defaults to GITHUB_API_URL, then https://api.github.com. */
  baseUrl?: string;
  logger: Logger;
  /** Retries after the first try, for 5xx, dropped connections and rate limits. Default 3. */
  retries?: number;
  /**
   * Multiplies every wait (backoff, Retry-After, write pacing). 1 in production; tests pass e.g. 0.001
   * so a "Retry-After: 60" costs 60 ms instead of a minute.
   */
  waitScale?: number;
}

const DEFAULT_RETRIES = 3;
/** A Retry-After longer than this is not waited out: a CI job should fail and say why instead. */
const MAX_RETRY_AFTER_SECONDS = 300;
/** Cap on one backoff wait for 5xx / connection errors, before jitter. */
const MAX_BACKOFF_MS = 30_000;

export function createGitHubClient(opts: GitHubClientOptions): GitHubClient {
  const { logger } = opts;
  const retries = Math.max(0, Math.floor(opts.retries ?? DEFAULT_RETRIES));
  const scale = opts.waitScale ?? 1;
  const baseUrl = (opts.baseUrl || process.env.GITHUB_API_URL || 'https://api.github.com').replace(
    /\/+$/,
    '',
  );

  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const what = `${options.method} ${options.url}`;
      if (retryAfter > MAX_RETRY_AFTER_SECONDS) {
        logger.warning(
          `GitHub ${kind} hit on ${what}; GitHub asks to wait ${retryAfter}s, longer than the ${MAX_RETRY_AFTER_SECONDS}s ` +
            `we are willing to wait in a CI job, so the request fails. Re-run the job later, or use a token with a ` +
            `separate rate limit (a GitHub App token).`,
        );
        return false;
      }
      if (retryCount >= retries) {
        logger.warning(`GitHub ${kind} hit on ${what}; giving up after ${retryCount + 1} attempts.`);
        return false;
      }
      logger.warning(
        `GitHub ${kind} hit on ${what}; retrying in ${retryAfter}s (retry ${retryCount + 1} of ${retries}).`,
      );
      return true;
    };

  const throttle: NonNullable<OctokitOptions['throttle']> = {
    onRateLimit: onLimit('rate limit'),
    onSecondaryRateLimit: onLimit('secondary rate limit'),
    retryAfterBaseValue: 1000 * scale,
  };
  if (scale !== 1) {
    // Same limits as the plugin's defaults, scaled; see the import comment above.
    const group = (minTime: number) => new Bottleneck.Group({ maxConcurrent: 1, minTime: minTime * scale });
    throttle.write = group(1000);
    throttle.notifications = group(3000);
    throttle.search = group(2000);
  }

  const options: OctokitOptions = {
    baseUrl,
    log: {
      debug: (m: string) => logger.debug(m),
      info: (m: string) => logger.debug(m),
      warn: (m: string) => logger.warning(m),
      error: (m: string) => logger.warning(m),
    },
    retry: {
      retries,
      // The retry plugin multiplies its wait by this; jitteredBackoff below hands it milliseconds.
      retryAfterBaseValue: scale,
      // 429 and secondary-limit 403s belong to the throttling plugin, which honours Retry-After.
      doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451],
    },
    throttle,
  };
  // Both plugins re-send the same options object, so a WeakMap keyed by it counts the real attempts.
  const attempts = new WeakMap<object, number>();
  return getOctokit(
    opts.token,
    options,
    countAttempts(attempts),
    retry,
    jitteredBackoff,
    throttling,
    describeErrors(baseUrl, attempts),
  );
}

/** Innermost hook (registered first): counts every request actually sent, retries included. */
function countAttempts(attempts: WeakMap<object, number>) {
  return (octokit: Octokit): Record<string, never> => {
    octokit.hook.before('request', (options) => {
      attempts.set(options, (attempts.get(options) ?? 0) + 1);
    });
    return {};
  };
}

/**
 * The retry plugin backs off 1 s, 4 s, 9 s … with no jitter, so parallel jobs hitting the same outage
 * retry in lock-step. Its per-retry wait goes through `octokit.retry.retryRequest`, which we wrap to
 * hand back a wait in milliseconds with ±50 % jitter, capped.
 */
function jitteredBackoff(octokit: Octokit): Record<string, never> {
  const plugin = (octokit as Octokit & Partial<RetryPlugin>).retry;
  if (plugin) {
    const original = plugin.retryRequest;
    plugin.retryRequest = (error, retries, retryAfterSeconds) => {
      const ms = Math.min(MAX_BACKOFF_MS, retryAfterSeconds * 1000) * (0.5 + Math.random());
      return original(error, retries, Math.max(1, Math.round(ms)));
    };
  }
  return {};
}

interface HttpErrorLike {
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { data?: unknown; headers?: Record<string, string | number | undefined> };
}

/** True for an Octokit RequestError (or anything shaped like one): it carries an HTTP status. */
export function isHttpError(e: unknown): e is HttpErrorLike {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { status?: unknown }).status === 'number' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/** The HTTP status of a failed GitHub call, or undefined for anything else. */
export function httpStatus(e: unknown): number | undefined {
  return isHttpError(e) ? e.status : undefined;
}

/** GitHub's own error message from the response body ("Resource not accessible by integration"). */
export function apiMessage(e: unknown): string {
  if (!isHttpError(e)) return e instanceof Error ? e.message : String(e);
  const data = e.response?.data;
  if (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { message?: unknown }).message === 'string'
  ) {
    return (data as { message: string }).message;
  }
  return e.message;
}

/** The permission a request needs, by its path: what a 403 on it is about. */
function permissionFor(path: string): string {
  if (/\/deployments/.test(path)) return '`deployments: write` (or `deployment: false` for previews)';
  if (/\/actions\/runs|\/environments/.test(path))
    return '`actions: read` (promotion reads environments and run approvals)';
  if (/\/issues\/|\/comments/.test(path)) return '`pull-requests: write` (or `comment: false`)';
  if (/\/pulls|\/compare/.test(path)) return '`contents: read` and `pull-requests: read`';
  return '`contents: read`, `pull-requests: write`, `deployments: write` and, for promotion, `actions: read`';
}

function hintFor(status: number, path = ''): string {
  if (status >= 500) {
    return 'GitHub is failing or unreachable; check https://www.githubstatus.com (or your GitHub Enterprise server) and re-run the job.';
  }
  if (status === 401) return 'the token is missing, invalid or expired; check the token input of the action.';
  if (status === 403) {
    return `the token lacks a permission: this request needs ${permissionFor(path)} in the job's \`permissions:\`.`;
  }
  if (status === 404) return 'the repository or object does not exist, or the token cannot see it.';
  if (status === 422)
    return 'GitHub rejected the request as invalid; this is likely a kubestage bug, please report it.';
  return 'see the GitHub message above.';
}

/**
 * Rewrites the message of a failed request so a person at 2 a.m. sees what was called, how often,
 * what GitHub said and what to do. The error object (status, response) is kept, so callers can still
 * branch on `status`.
 */
function describeErrors(baseUrl: string, attemptsBy: WeakMap<object, number>) {
  return (octokit: Octokit): Record<string, never> => {
    octokit.hook.error('request', (error, options) => {
      if (isHttpError(error)) {
        const method = error.request?.method ?? options.method ?? 'GET';
        // The request's URL is expanded ({owner} filled in); options.url is still the route template.
        const url = String(error.request?.url ?? options.url ?? '');
        const path = url.startsWith(baseUrl) ? url.slice(baseUrl.length) : url;
        const attempts = attemptsBy.get(options) ?? 1;
        const status = error.status;
        const said = apiMessage(error);
        const where = status >= 500 || status === 0 ? ` (${baseUrl})` : '';
        // Octokit reports a refused or dropped connection as status 500 without a response.
        const outcome =
          error.response === undefined ? `without a reply${where}` : `with HTTP ${status}${where}`;
        error.message =
          `GitHub API ${method} ${path} failed ${outcome} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ` +
          `${said} — ${hintFor(status, path)}`;
      }
      throw error;
    });
    return {};
  };
}
