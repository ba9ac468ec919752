// The one place that talks HTTP to the Kubernetes API server. Built on client-node's KubeConfig
// (auth: tokens, client certs, exec plugins, in-cluster) and its request/watch machinery, but
// with raw JSON bodies: the typed models would silently drop fields they don't know about.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  PatchStrategy,
  RequestContext,
  Watch,
  type User,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../model/labels.js';
import type { Logger } from '../logger.js';
import { parseRetryAfter, retry, type RetryOptions } from '../retry.js';
import type { KubeObject, KubeStatus, LiveObject, ObjectList } from './types.js';

// ---------------------------------------------------------------------------------------------
// Kubeconfig loading

export interface LoadKubeConfigInput {
  /** Kubeconfig content (YAML), the same base64-encoded, or a path to a file. */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  /** Relative paths are resolved against this (GITHUB_WORKSPACE). */
  workspace?: string;
  /** Called with every secret found in the kubeconfig; main.ts passes core.setSecret. */
  mask?: (secret: string) => void;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  source: string;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Finds the kubeconfig: input (YAML, base64 or path), then $KUBECONFIG, then in-cluster. */
export function loadKubeConfig(input: LoadKubeConfigInput): LoadedKubeConfig {
  const env = input.env ?? process.env;
  const mask = input.mask ?? (() => undefined);
  const raw = input.kubeconfig?.trim() ?? '';
  const kc = new KubeConfig();
  let source: string;

  if (raw !== '') {
    if (looksLikeYaml(raw)) {
      source = 'input (YAML)';
      loadFromContent(kc, raw, source);
    } else if (isReadableFile(resolvePath(raw, input.workspace))) {
      const path = resolvePath(raw, input.workspace);
      source = `file ${path}`;
      loadFromContent(kc, readFileSync(path, 'utf8'), source);
    } else {
      const decoded = decodeBase64(raw);
      if (decoded === undefined || !looksLikeYaml(decoded)) {
        // Never echo the value: a mangled secret is still a secret.
        throw new Error(
          `the kubeconfig input is neither a readable file path, base64, nor YAML (${raw.length} characters, not shown); ` +
            'pass the kubeconfig file content (e.g. `${{ secrets.KUBECONFIG }}`), the same base64-encoded ' +
            '(`base64 -w0 ~/.kube/config`), or a path to a file that exists in the workspace',
        );
      }
      mask(raw);
      source = 'input (base64)';
      loadFromContent(kc, decoded, source);
    }
  } else if (env.KUBECONFIG && env.KUBECONFIG.trim() !== '') {
    source = '$KUBECONFIG';
    const paths = env.KUBECONFIG.split(delimiter).filter((p) => p !== '');
    let loaded = false;
    for (const p of paths) {
      const path = resolvePath(p, input.workspace);
      if (!isReadableFile(path)) continue;
      const one = new KubeConfig();
      loadFromContent(one, readFileSync(path, 'utf8'), `$KUBECONFIG file ${path}`);
      if (!loaded) {
        kc.loadFromString(one.exportConfig());
        loaded = true;
      } else {
        kc.mergeConfig(one, true);
      }
    }
    if (!loaded) {
      throw new Error(
        `no file named in $KUBECONFIG (${paths.join(delimiter)}) is readable; ` +
          'check the path, or pass the kubeconfig through the `kubeconfig` input instead',
      );
    }
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
    source = 'in-cluster';
    kc.loadFromCluster();
  } else {
    throw new Error(
      'no kubeconfig: the `kubeconfig` input is empty, $KUBECONFIG is not set and this is not running ' +
        'inside a cluster; store your kubeconfig as a repository secret and pass it as `kubeconfig: ${{ secrets.KUBECONFIG }}`',
    );
  }

  for (const secret of secretsOf(kc)) mask(secret);
  allowPlainHttp(kc);
  validate(kc, source);
  return { kc, source };
}

function looksLikeYaml(s: string): boolean {
  // A kubeconfig always names its clusters; a one-line path or base64 blob never contains a newline
  // plus a key like this.
  return (
    /(^|\n)\s*(apiVersion|clusters|kind|current-context)\s*:/.test(s) || /^\s*\{[\s\S]*"clusters"/.test(s)
  );
}

function resolvePath(p: string, workspace: string | undefined): string {
  if (p.startsWith('~/')) return resolve(process.env.HOME ?? '', p.slice(2));
  return isAbsolute(p) ? p : resolve(workspace ?? process.cwd(), p);
}

function isReadableFile(path: string): boolean {
  try {
    return path.length < 4096 && !path.includes('\n') && statSync(path).isFile();
  } catch {
    return false;
  }
}

function decodeBase64(s: string): string | undefined {
  const compact = s.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  return decoded.includes('\uFFFD') ? undefined : decoded;
}

function loadFromContent(kc: KubeConfig, content: string, source: string): void {
  try {
    kc.loadFromString(content);
  } catch (e) {
    // YAML parser messages quote the offending line, which may hold a token: report only where.
    const err = e as { reason?: unknown; mark?: { line?: number; column?: number }; name?: string };
    const where =
      err.mark?.line !== undefined
        ? ` at line ${err.mark.line + 1}, column ${(err.mark.column ?? 0) + 1}`
        : '';
    const reason =
      typeof err.reason === 'string'
        ? err.reason
        : err.name === 'YAMLException'
          ? 'invalid YAML'
          : String((e as Error).message ?? e);
    // No `cause`: the parser's error quotes kubeconfig content, which must never reach the log.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `could not parse the kubeconfig from ${source}: ${reason}${where}; ` +
        'check that the secret holds a complete kubeconfig (`kubectl config view --raw --minify`)',
    );
  }
}

function secretsOf(kc: KubeConfig): string[] {
  const out: string[] = [];
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.trim().length >= 4) out.push(v);
  };
  for (const u of kc.getUsers() as User[]) {
    add(u.token);
    add(u.password);
    add(u.keyData);
    add(u.certData);
    const cfg = (u.authProvider as { config?: Record<string, unknown> } | undefined)?.config ?? {};
    for (const key of ['access-token', 'id-token', 'refresh-token', 'client-secret', 'token']) add(cfg[key]);
    const execEnv = (u.exec as { env?: { name?: string; value?: unknown }[] } | undefined)?.env ?? [];
    for (const e of execEnv) add(e.value);
  }
  return out;
}

/**
 * client-node refuses an `http://` server unless insecure-skip-tls-verify is set, although there is
 * no TLS to verify; kubectl accepts such kubeconfigs (`kubectl proxy`, local API servers), so do we.
 */
export function allowPlainHttp(kc: KubeConfig): void {
  if (kc.clusters.some((c) => c.server.startsWith('http:') && !c.skipTLSVerify)) {
    kc.clusters = kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c));
  }
}

function validate(kc: KubeConfig, source: string): void {
  const ctxName = kc.getCurrentContext();
  if (!ctxName) {
    throw new Error(
      `the kubeconfig from ${source} has no current-context; set one (\`kubectl config use-context NAME\`) before storing it`,
    );
  }
  const ctx = kc.getContextObject(ctxName);
  if (!ctx) {
    throw new Error(
      `the kubeconfig from ${source} names current-context "${ctxName}" but defines no such context`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(
      `the kubeconfig from ${source}: context "${ctxName}" refers to cluster "${ctx.cluster}", which is not defined`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

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

function retryAfterOf(e: unknown): number | undefined {
  if (!(e instanceof ApiException)) return undefined;
  const headers = (e.headers ?? {}) as Record<string, string>;
  const fromHeader = parseRetryAfter(headers['retry-after'] ?? headers['Retry-After']);
  if (fromHeader !== undefined) return fromHeader;
  const seconds = (e.body as KubeStatus | undefined)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds * 1000 : undefined;
}

/** Short API-server message for an error: the Status message plus 422 field causes. */
export function describeApiError(e: unknown): string {
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

// ---------------------------------------------------------------------------------------------
// Discovery

export interface ApiResource {
  group: string;
  version: string;
  /** `group/version`, or `version` for the core group. */
  apiVersion: string;
  kind: string;
  /** The plural used in URLs. */
  name: string;
  namespaced: boolean;
  verbs: string[];
}

/**
 * Resources never worth listing when we look for our own objects: events are numerous and never
 * applied by anyone. (Controller-made copies of our labels, such as a Service's Endpoints or a
 * StatefulSet's PVCs, are told apart by managedFields instead, see appliedBy in apply.ts.)
 */
export const NOISE_RESOURCES = new Set(['events']);

// ---------------------------------------------------------------------------------------------
// Client

export interface KubeClientOptions {
  logger: Logger;
  fieldManager?: string;
  retry?: Partial<RetryOptions>;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Retry on 5xx and dropped connections; on by default except for POST (may not be idempotent). */
  idempotent?: boolean;
  /** Return text instead of parsing JSON (pod logs). */
  text?: boolean;
}

export interface ObserveOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  timeoutMs: number;
  /** Re-evaluate the predicate at least this often even without events (time-based rules). */
  tickMs?: number;
  /** Stops observing (resolving false unless already satisfied), e.g. when a sibling watch settled. */
  signal?: AbortSignal;
}

/** Resolves (apiVersion, kind) → namespaced? synchronously; matches render/guard.ts's ScopeResolver. */
export type SyncScopeResolver = (apiVersion: string, kind: string) => boolean | undefined;

const DEFAULT_RETRY: Omit<RetryOptions, 'isRetryable'> = { attempts: 5, baseMs: 250, maxMs: 10_000 };

export class KubeClient {
  readonly fieldManager: string;
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly retryOptions: Omit<RetryOptions, 'isRetryable'> &
    Partial<Pick<RetryOptions, 'isRetryable'>>;
  private readonly server: string;
  // client-node builds a fresh TLS dispatcher (so a fresh connection) for every request; we keep the
  // first one so requests reuse keep-alive connections. Plain-HTTP servers use undici's shared pool.
  private dispatcher: ReturnType<RequestContext['getDispatcher']>;
  private readonly gvCache = new Map<string, Promise<ApiResource[] | undefined>>();
  private allResources: Promise<ApiResource[]> | undefined;
  private readonly scopeCache = new Map<string, boolean | undefined>();

  constructor(
    readonly kc: KubeConfig,
    private readonly opts: KubeClientOptions,
  ) {
    this.fieldManager = opts.fieldManager ?? FIELD_MANAGER;
    this.retryOptions = { ...DEFAULT_RETRY, ...opts.retry };
    allowPlainHttp(kc);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster; set current-context');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** One HTTP request with retry; throws KubeApiError on a non-2xx answer. */
  async request<T>(method: HttpMethod, path: string, ro: RequestOptions = {}): Promise<T> {
    const idempotent = ro.idempotent ?? method !== HttpMethod.POST;
    return this.retried<T>(method, path, ro, idempotent).catch((e: unknown) => {
      if (!isNetworkError(e) || e instanceof KubeApiError) throw e;
      // undici says only "fetch failed"; name the server, the low-level cause and what to check.
      throw new Error(
        `Cannot reach the Kubernetes API server at ${this.server} (${method} ${path}): ${networkCause(e)}. ` +
          "Check that the kubeconfig's server address is reachable from the runner (cluster up, firewall, VPN or private endpoint) " +
          'and that the kubeconfig input points at the cluster you mean.',
        { cause: e },
      );
    });
  }

  private retried<T>(method: HttpMethod, path: string, ro: RequestOptions, idempotent: boolean): Promise<T> {
    return retry((attempt) => this.once<T>(method, path, ro, attempt), {
      ...this.retryOptions,
      // A POST that got a 429 was never processed, so it is safe to repeat; other failures may have been.
      isRetryable: (e) =>
        (this.retryOptions.isRetryable ?? isRetryableKubeError)(e) && (idempotent || statusOf(e) === 429),
      retryAfterMs: this.retryOptions.retryAfterMs ?? retryAfterOf,
      onRetry: (e, attempt, waitMs) => {
        this.logger.debug(
          `${method} ${path} failed (attempt ${attempt}): ${describeApiError(e)}; retrying in ${waitMs} ms`,
        );
        this.retryOptions.onRetry?.(e, attempt, waitMs);
      },
    });
  }

  private async once<T>(method: HttpMethod, path: string, ro: RequestOptions, _attempt: number): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(ro.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', ro.text ? 'text/plain, */*' : 'application/json');
    if (ro.body !== undefined) {
      ctx.setHeaderParam('Content-Type', ro.contentType ?? 'application/json');
      ctx.setBody(typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (fresh !== undefined) {
      this.dispatcher ??= fresh;
      ctx.setDispatcher(this.dispatcher);
    }
    const res = await this.http.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode >= 200 && res.httpStatusCode < 300) {
      if (ro.text) return text as T;
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }
    let status: KubeStatus;
    try {
      status = JSON.parse(text) as KubeStatus;
    } catch {
      status = { message: text.slice(0, 500), code: res.httpStatusCode };
    }
    throw new KubeApiError(
      res.httpStatusCode,
      `${method} ${url.pathname}: HTTP ${res.httpStatusCode}${status.message ? `: ${status.message}` : ''}`,
      status,
      res.headers,
      method,
      url.pathname,
    );
  }

  // --- discovery ------------------------------------------------------------------------------

  /** The resources served for one group/version (cached); undefined when the server doesn't serve it. */
  groupVersionResources(apiVersion: string): Promise<ApiResource[] | undefined> {
    let p = this.gvCache.get(apiVersion);
    if (!p) {
      p = this.fetchGroupVersion(apiVersion);
      this.gvCache.set(apiVersion, p);
      // A failure must not be cached forever: the next call asks again.
      p.catch(() => this.gvCache.delete(apiVersion));
    }
    return p;
  }

  private async fetchGroupVersion(apiVersion: string): Promise<ApiResource[] | undefined> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    let list: { resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[] };
    try {
      list = await this.request(HttpMethod.GET, path);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    return (list.resources ?? [])
      .filter((r) => !r.name.includes('/')) // subresources (pods/log, deployments/status)
      .map((r) => ({
        group,
        version,
        apiVersion,
        kind: r.kind,
        name: r.name,
        namespaced: r.namespaced,
        verbs: r.verbs ?? [],
      }));
  }

  /** Discovery for one kind; undefined when the server does not serve it (e.g. a CRD not installed yet). */
  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource | undefined> {
    let found = (await this.groupVersionResources(apiVersion))?.find((r) => r.kind === kind);
    if (!found && this.gvCache.has(apiVersion)) {
      // A CRD applied in an earlier wave adds kinds: look once more before calling it unknown.
      this.gvCache.delete(apiVersion);
      found = (await this.groupVersionResources(apiVersion))?.find((r) => r.kind === kind);
    }
    return found;
  }

  /** Every resource at its group's preferred version (cached for the client's life). */
  serverResources(): Promise<ApiResource[]> {
    this.allResources ??= this.fetchAll();
    this.allResources.catch(() => (this.allResources = undefined));
    return this.allResources;
  }

  private async fetchAll(): Promise<ApiResource[]> {
    const core = await this.request<{ versions?: string[] }>(HttpMethod.GET, '/api');
    const groups = await this.request<{
      groups?: {
        name: string;
        preferredVersion?: { groupVersion: string };
        versions?: { groupVersion: string }[];
      }[];
    }>(HttpMethod.GET, '/apis');
    const gvs = [
      ...(core.versions ?? ['v1']),
      ...(groups.groups ?? [])
        .map((g) => g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion ?? '')
        .filter((v) => v !== ''),
    ];
    // One unhealthy aggregated API (a stale metrics.k8s.io answering 503 is common) must not hide
    // every other kind: like kubectl, warn and go on with the group/versions that answered. The
    // failed ones are not cached (groupVersionResources forgets failures), so a later call asks again.
    const lists = await Promise.allSettled(gvs.map((gv) => this.groupVersionResources(gv)));
    const failed: string[] = [];
    lists.forEach((r, i) => {
      if (r.status === 'rejected') failed.push(`${gvs[i]} (${describeApiError(r.reason)})`);
    });
    if (failed.length === gvs.length && failed.length > 0) {
      throw new Error(`API discovery failed for every group/version: ${failed.join('; ')}`);
    }
    if (failed.length) {
      this.logger.warning(
        `API discovery failed for ${failed.join(', ')}; objects of ${failed.length === 1 ? 'that group/version' : 'those group/versions'} ` +
          'are skipped this run. Usually an aggregated API whose backing service is down (kubectl get apiservices shows it unavailable).',
      );
    }
    return lists.flatMap((r) => (r.status === 'fulfilled' ? (r.value ?? []) : []));
  }

  /** true = namespaced, false = cluster-scoped, undefined = the server doesn't know the kind. */
  async scope(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const key = `${apiVersion} ${kind}`;
    if (this.scopeCache.has(key)) return this.scopeCache.get(key);
    const r = await this.resourceFor(apiVersion, kind);
    // Unknown kinds are not cached: the CRD may be installed a moment later.
    if (r) this.scopeCache.set(key, r.namespaced);
    return r?.namespaced;
  }

  /**
   * Looks up every listed kind once (one discovery request per group/version), so that scopeOf and
   * the returned resolver can answer synchronously afterwards (the render guard is synchronous).
   */
  async preloadScopes(
    kinds: ([string, string] | { apiVersion: string; kind: string })[],
  ): Promise<SyncScopeResolver> {
    const pairs = kinds.map((k) => (Array.isArray(k) ? k : [k.apiVersion, k.kind]));
    await Promise.all(pairs.map(([apiVersion, kind]) => this.scope(apiVersion, kind)));
    return (apiVersion, kind) => this.scopeOf(apiVersion, kind);
  }

  /** Synchronous answer from what scope/preloadScopes learned; undefined when never looked up or unknown. */
  scopeOf(apiVersion: string, kind: string): boolean | undefined {
    return this.scopeCache.get(`${apiVersion} ${kind}`);
  }

  private async pathFor(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name?: string,
  ): Promise<string> {
    const r = await this.resourceFor(apiVersion, kind);
    if (!r) throw new UnknownKindError(apiVersion, kind);
    const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
    const ns = r.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
    return `${base}${ns}/${r.name}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  // --- objects --------------------------------------------------------------------------------

  /** The live object, or undefined when it does not exist. */
  async get<T = LiveObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    try {
      return await this.request<T>(HttpMethod.GET, await this.pathFor(apiVersion, kind, namespace, name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every object of a kind (all pages). */
  async list<T = LiveObject>(
    apiVersion: string,
    kind: string,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<ObjectList<T>> {
    const path = await this.pathFor(apiVersion, kind, opts.namespace);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page: ObjectList<T> = await this.request(HttpMethod.GET, path, {
        query: {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: 500,
          continue: cont,
        },
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /** Server-side apply under our field manager; returns the object as stored. */
  async apply<T = LiveObject>(obj: KubeObject, opts: { force?: boolean } = {}): Promise<T> {
    const path = await this.pathFor(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    // SSA is idempotent by design: replaying the same intent yields the same object.
    return this.request<T>(HttpMethod.PATCH, path, {
      query: { fieldManager: this.fieldManager, force: opts.force ? true : undefined },
      body: obj,
      contentType: PatchStrategy.ServerSideApply,
      idempotent: true,
    });
  }

  /** Deletes; false when it was already gone. */
  async delete(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<boolean> {
    try {
      await this.request(HttpMethod.DELETE, await this.pathFor(apiVersion, kind, namespace, name), {
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: opts.propagationPolicy ?? 'Background',
        },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** Text of a container's log (last `tailLines`, the previous instance for crash loops). */
  async podLog(
    namespace: string,
    pod: string,
    opts: { container?: string; tailLines?: number; previous?: boolean } = {},
  ): Promise<string> {
    return this.request<string>(
      HttpMethod.GET,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
      {
        query: { container: opts.container, tailLines: opts.tailLines, previous: opts.previous || undefined },
        text: true,
      },
    );
  }

  /**
   * List-then-watch a kind until `done(objects)` returns true or the timeout passes; returns whether
   * `done` was satisfied. Reconnects when the server closes the stream, re-lists on 410 Gone. `done`
   * is also called every `tickMs` so time-based rules (grace periods) fire without events.
   */
  async observe<T extends LiveObject = LiveObject>(
    apiVersion: string,
    kind: string,
    opts: ObserveOptions,
    done: (objects: Map<string, T>) => boolean,
  ): Promise<boolean> {
    const path = await this.pathFor(apiVersion, kind, opts.namespace);
    const deadline = Date.now() + opts.timeoutMs;
    const objects = new Map<string, T>();
    const query = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };

    return new Promise<boolean>((resolvePromise, reject) => {
      let finished = false;
      let controller: AbortController | undefined;
      let rv: string | undefined;
      let tick: ReturnType<typeof setInterval> | undefined;
      const timer = setTimeout(() => finish(false), Math.max(0, opts.timeoutMs));
      const finish = (ok: boolean, err?: unknown): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (tick) clearInterval(tick);
        controller?.abort();
        if (err) reject(err);
        else resolvePromise(ok);
      };
      const check = (): void => {
        if (finished) return;
        try {
          if (done(objects)) finish(true);
        } catch (e) {
          finish(false, e);
        }
      };
      if (opts.tickMs) tick = setInterval(check, opts.tickMs);
      if (opts.signal?.aborted) return finish(false);
      opts.signal?.addEventListener('abort', () => finish(false), { once: true });

      const relist = async (): Promise<void> => {
        const list = await this.list<T>(apiVersion, kind, opts);
        objects.clear();
        for (const o of list.items) objects.set(o.metadata.name, o);
        rv = list.metadata.resourceVersion;
      };
      const loop = async (): Promise<void> => {
        let needList = true;
        let failures = 0;
        while (!finished && Date.now() < deadline) {
          try {
            if (needList) {
              await relist();
              needList = false;
              check();
              if (finished) return;
            }
            const gone = await this.watchOnce<T>(
              path,
              { ...query, resourceVersion: rv, allowWatchBookmarks: true },
              deadline,
              (c) => {
                controller = c;
                // finish() may have run while this watch was being set up (another watcher settled,
                // the caller aborted): close it now, or its open request would hold the process.
                if (finished) c.abort();
              },
              (type, obj) => {
                if (type === 'BOOKMARK') {
                  rv = obj.metadata.resourceVersion ?? rv;
                  return;
                }
                rv = obj.metadata.resourceVersion ?? rv;
                if (type === 'DELETED') objects.delete(obj.metadata.name);
                else objects.set(obj.metadata.name, obj);
                check();
              },
            );
            failures = 0;
            if (gone) needList = true;
          } catch (e) {
            if (finished) return;
            if (statusOf(e) === 410) {
              needList = true;
              continue;
            }
            failures++;
            if (!isRetryableKubeError(e) && statusOf(e) !== undefined) return finish(false, e);
            if (failures > 8) return finish(false, e);
            this.logger.debug(`watch ${path} interrupted: ${describeApiError(e)}; reconnecting`);
            needList = true;
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
          }
        }
      };
      loop().catch((e) => finish(false, e));
    });
  }

  /** One watch connection; resolves true when the server says the resourceVersion is too old (410). */
  private watchOnce<T extends LiveObject>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    deadline: number,
    onController: (c: AbortController) => void,
    onEvent: (type: string, obj: T) => void,
  ): Promise<boolean> {
    return new Promise<boolean>((res, rej) => {
      let gone = false;
      const timeoutSeconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      new Watch(this.kc)
        .watch(
          path,
          { ...query, timeoutSeconds },
          (type: string, obj: unknown) => {
            if (type === 'ERROR') {
              const st = obj as KubeStatus;
              if (st.code === 410) gone = true;
              return;
            }
            onEvent(type, obj as T);
          },
          (err: unknown) => {
            if (err && !gone && !(err instanceof Error && err.name === 'AbortError'))
              rej(watchError(err, path));
            else res(gone);
          },
        )
        .then(onController, rej);
    });
  }
}

/**
 * client-node reports a refused watch as a bare Error('Forbidden') with a statusCode, the Status
 * body dropped: make it a KubeApiError that says which watch was refused.
 */
function watchError(err: unknown, path: string): unknown {
  const code = statusOf(err);
  if (code === undefined || err instanceof ApiException) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const status: KubeStatus = {
    kind: 'Status',
    status: 'Failure',
    code,
    reason,
    message: `the API server refused to watch ${path}`,
  };
  return new KubeApiError(code, `GET ${path}?watch=true: HTTP ${code}: ${reason}`, status, {}, 'GET', path);
}

export function createKubeClient(kc: KubeConfig, opts: KubeClientOptions): KubeClient {
  return new KubeClient(kc, opts);
}
