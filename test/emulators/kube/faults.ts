// Fault injection for the Kubernetes API emulator: latency, a seeded share of failing requests,
// and scripted failures (`failNext`). Seeded so that a flaky-looking test run can be replayed, and
// bounded (`maxConsecutive`) so that a client with a sane retry policy always gets through.
import { ApiError, failure } from './status.js';

/**
 * `drop`: the connection is destroyed before the request is served. `dropReply`: the request IS
 * served (the write happens), then the connection is destroyed instead of answering, as when a
 * proxy or load balancer loses the reply; a client retrying it meets its own earlier write.
 * `403`: RBAC denies the request, answered with the Forbidden Status an API server writes for the
 * verb and resource of the request (see forbiddenError); only scripted, never a random share.
 */
export type FaultKind = 403 | 429 | 500 | 503 | 'drop' | 'dropReply';

export interface FaultRule {
  method?: string;
  pathPattern?: RegExp;
  /** Matched against the query string (`?watch=true&…`, or '' when there is none). */
  queryPattern?: RegExp;
  status: FaultKind;
}

/** The user injected 403s are denied to, as a CI service account would be. */
export const FORBIDDEN_USER = 'system:serviceaccount:ci:deployer';

/**
 * The 403 an API server's RBAC authorizer answers for this request, worded as the real one:
 * `namespaces is forbidden: User "…" cannot list resource "namespaces" in API group "" at the
 * cluster scope`, or `… "web" is forbidden: … cannot get resource "deployments" in API group "apps"
 * in the namespace "pr-7"`.
 */
export function forbiddenError(method: string, path: string, query = '', user = FORBIDDEN_USER): ApiError {
  const parts = path.split('/').filter(Boolean);
  // /api/v1/… or /apis/<group>/<version>/…
  const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
  let rest = parts.slice(parts[0] === 'apis' ? 3 : 2);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  let resource = rest[0] ?? '';
  let name: string | undefined = rest[1];
  if (resource === 'namespaces' && name !== undefined) namespace = name;
  if (rest[2]) resource = `${resource}/${rest[2]}`;
  const watch = /(?:^|[?&])watch=(?:true|1)(?:&|$)/.test(query);
  const m = method.toUpperCase();
  const verb =
    m === 'GET' || m === 'HEAD'
      ? watch
        ? 'watch'
        : name === undefined
          ? 'list'
          : 'get'
      : m === 'POST'
        ? 'create'
        : m === 'PUT'
          ? 'update'
          : m === 'PATCH'
            ? 'patch'
            : m === 'DELETE'
              ? name === undefined
                ? 'deletecollection'
                : 'delete'
              : m.toLowerCase();
  if (verb === 'create') name = undefined;
  const base = resource.split('/')[0] ?? resource;
  const subject = name === undefined ? `${base}` : `${base} "${name}"`;
  const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  return new ApiError(
    failure(
      403,
      'Forbidden',
      `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}`,
      { name, group, kind: base },
    ),
  );
}

export interface FaultShares {
  /** Share (0..1) of requests answered 429 TooManyRequests with Retry-After. */
  tooManyRequests: number;
  /** Share answered 500 InternalError. */
  serverError: number;
  /** Share answered 503 ServiceUnavailable. */
  unavailable: number;
  /** Share whose connection is destroyed without an answer. */
  drop: number;
}

export interface InjectedFault {
  method: string;
  path: string;
  kind: FaultKind;
}

/** mulberry32: tiny, fast, good enough to make fault shares reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  /** Extra delay before every answer, on top of the emulator's `latencyMs` option. */
  latencyMs = 0;
  /** Random extra delay in [0, jitterMs), from the seeded generator. */
  jitterMs = 0;
  shares: FaultShares = { tooManyRequests: 0, serverError: 0, unavailable: 0, drop: 0 };
  /** Only requests whose path matches are subject to the random shares (default: all). */
  sharesScope: RegExp | undefined;
  /** Retry-After seconds sent with injected 429s. */
  retryAfterSeconds = 1;
  /** At most this many random faults in a row; the next request then passes. */
  maxConsecutive = 2;
  /** Every fault injected so far, oldest first. */
  readonly injected: InjectedFault[] = [];

  private random: () => number;
  private consecutive = 0;
  private scripted: { remaining: number; rule: FaultRule }[] = [];

  constructor(seed = 1) {
    this.random = rng(seed);
  }

  /** Restarts the random sequence, so the same requests meet the same faults. */
  seed(seed: number): void {
    this.random = rng(seed);
    this.consecutive = 0;
  }

  /** The next `n` requests matching `rule` fail as the rule says (then requests pass again). */
  failNext(n: number, rule: FaultRule): void {
    if (n > 0) this.scripted.push({ remaining: n, rule });
  }

  /** Back to no faults and no latency. */
  reset(): void {
    this.latencyMs = 0;
    this.jitterMs = 0;
    this.shares = { tooManyRequests: 0, serverError: 0, unavailable: 0, drop: 0 };
    this.sharesScope = undefined;
    this.scripted = [];
    this.consecutive = 0;
    this.injected.length = 0;
  }

  /** Delay for this request (ms). */
  delay(): number {
    return this.latencyMs + (this.jitterMs > 0 ? Math.floor(this.random() * this.jitterMs) : 0);
  }

  /** Decides the fate of one request: a fault to inject, or undefined to serve it. */
  decide(method: string, path: string, query = ''): FaultKind | undefined {
    for (const s of this.scripted) {
      if (s.rule.method && s.rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (s.rule.pathPattern) {
        s.rule.pathPattern.lastIndex = 0;
        if (!s.rule.pathPattern.test(path)) continue;
      }
      if (s.rule.queryPattern) {
        s.rule.queryPattern.lastIndex = 0;
        if (!s.rule.queryPattern.test(query)) continue;
      }
      s.remaining--;
      if (s.remaining <= 0) this.scripted = this.scripted.filter((x) => x !== s);
      return this.record(method, path, s.rule.status);
    }
    const { tooManyRequests, serverError, unavailable, drop } = this.shares;
    if (tooManyRequests + serverError + unavailable + drop <= 0) return undefined;
    if (this.sharesScope && !this.sharesScope.test(path)) return undefined;
    if (this.consecutive >= this.maxConsecutive) {
      this.consecutive = 0;
      return undefined;
    }
    const r = this.random();
    let kind: FaultKind | undefined;
    if (r < tooManyRequests) kind = 429;
    else if (r < tooManyRequests + serverError) kind = 500;
    else if (r < tooManyRequests + serverError + unavailable) kind = 503;
    else if (r < tooManyRequests + serverError + unavailable + drop) kind = 'drop';
    if (kind === undefined) {
      this.consecutive = 0;
      return undefined;
    }
    this.consecutive++;
    return this.record(method, path, kind);
  }

  private record(method: string, path: string, kind: FaultKind): FaultKind {
    this.injected.push({ method, path, kind });
    return kind;
  }
}
