// The one place that talks HTTP to the Kubernetes API server. Built on client-node's KubeConfig
// (auth: tokens, client certs, exec plugins, in-cluster) and its request/watch machinery, but
// with raw JSON bodies: the typed models would silently drop fields they don't know about.
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  PatchStrategy,
  RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../model/labels.js';
import type { Logger } from '../logger.js';
import { retry, type RetryOptions } from '../retry.js';
import { Discovery, type SyncScopeResolver } from './discovery.js';
import {
  describeApiError,
  isNetworkError,
  isNotFound,
  isRetryableKubeError,
  KubeApiError,
  networkCause,
  retryAfterOf,
  statusOf,
} from './errors.js';
import { allowPlainHttp, displayServer } from './kubeconfig.js';
import type { KubeObject, KubeStatus, LiveObject, ObjectList } from './types.js';
import { observe, type ObserveOptions } from './watch.js';

export interface KubeClientOptions {
  logger: Logger;
  fieldManager?: string;
  retry?: Partial<RetryOptions>;
  /**
   * Told of every answer (each attempt, retries included; watch streams excepted): what the
   * benchmark counts by verb. 0 as the status means no answer (a dropped connection).
   */
  onResponse?: (r: { method: string; path: string; status: number }) => void;
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

/** A 2xx answer: its status and parsed body. */
interface Answer<T> {
  status: number;
  body: T;
}

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
  /** Kinds, versions, scopes and URL paths, learned once per client. */
  readonly discovery: Discovery;

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
    this.discovery = new Discovery((path) => this.request(HttpMethod.GET, path), opts.logger);
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /** One HTTP request with retry; throws KubeApiError on a non-2xx answer. */
  async request<T>(method: HttpMethod, path: string, ro: RequestOptions = {}): Promise<T> {
    return (await this.exchange<T>(method, path, ro)).body;
  }

  /** request, with the HTTP status of the answer (an apply that created its object answers 201). */
  private exchange<T>(method: HttpMethod, path: string, ro: RequestOptions): Promise<Answer<T>> {
    const idempotent = ro.idempotent ?? method !== HttpMethod.POST;
    return this.retried<T>(method, path, ro, idempotent).catch((e: unknown) => {
      if (!isNetworkError(e) || e instanceof KubeApiError) throw e;
      // undici says only "fetch failed"; name the server, the low-level cause and what to check.
      throw new Error(
        `Cannot reach the Kubernetes API server at ${displayServer(this.server)} (${method} ${path}): ${networkCause(e)}. ` +
          "Check that the kubeconfig's server address is reachable from the runner (cluster up, firewall, VPN or private endpoint) " +
          'and that the kubeconfig input points at the cluster you mean.',
        { cause: e },
      );
    });
  }

  private retried<T>(
    method: HttpMethod,
    path: string,
    ro: RequestOptions,
    idempotent: boolean,
  ): Promise<Answer<T>> {
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

  private async once<T>(
    method: HttpMethod,
    path: string,
    ro: RequestOptions,
    _attempt: number,
  ): Promise<Answer<T>> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(ro.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), method);
    ctx.setHeaderParam('Accept', ro.text ? 'text/plain, */*' : 'application/json');
    if (ro.body !== undefined) {
      ctx.setHeaderParam('Content-Type', ro.contentType ?? 'application/json');
      ctx.setBody(typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body));
    }
    await this.kc.applySecurityAuthentication(ctx).catch((e: unknown) => {
      throw this.credentialsError(e);
    });
    const fresh = ctx.getDispatcher();
    if (fresh !== undefined) {
      this.dispatcher ??= fresh;
      ctx.setDispatcher(this.dispatcher);
    }
    let res: ResponseContext;
    let text: string;
    try {
      res = await this.http.send(ctx).toPromise();
      text = await res.body.text();
    } catch (e) {
      this.opts.onResponse?.({ method, path: url.pathname, status: 0 });
      throw e;
    }
    const status = res.httpStatusCode;
    this.opts.onResponse?.({ method, path: url.pathname, status });
    if (status >= 200 && status < 300) {
      if (ro.text) return { status, body: text as T };
      return { status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    }
    let error: KubeStatus;
    try {
      error = JSON.parse(text) as KubeStatus;
    } catch {
      // Not a Status (a proxy's HTML page, a load balancer's text): say what answered, not all of it.
      const type = (res.headers['content-type'] ?? 'no content type').split(';')[0];
      const excerpt = text
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 120);
      error = { message: `a ${type} reply${excerpt ? `: "${excerpt}"` : ''}`, code: status };
    }
    if (status === 401) {
      const user = this.kc.getCurrentUser()?.name ?? '(none)';
      throw new KubeApiError(
        401,
        `the Kubernetes API server at ${displayServer(this.server)} rejected the credentials of kubeconfig user "${user}" ` +
          `(context "${this.kc.getCurrentContext()}"): HTTP 401 Unauthorized. The token or client certificate is wrong or has expired; ` +
          'refresh the kubeconfig (e.g. the secret passed as `kubeconfig`) with current credentials.',
        error,
        res.headers,
        method,
        url.pathname,
      );
    }
    throw new KubeApiError(
      status,
      `${method} ${url.pathname}: HTTP ${status}${error.message ? `: ${error.message}` : ''}`,
      error,
      res.headers,
      method,
      url.pathname,
    );
  }

  /**
   * Looks up every listed kind once, so that scopeOf answers synchronously afterwards (the render
   * guard is synchronous); see Discovery.preloadScopes.
   */
  preloadScopes(
    kinds: ([string, string] | { apiVersion: string; kind: string })[],
  ): Promise<SyncScopeResolver> {
    return this.discovery.preloadScopes(kinds);
  }

  /** What preloadScopes learned: true = namespaced, undefined = never looked up or unknown. */
  scopeOf(apiVersion: string, kind: string): boolean | undefined {
    return this.discovery.scopeOf(apiVersion, kind);
  }

  // --- objects --------------------------------------------------------------------------------

  /**
   * Whether the server is a Kubernetes API server at all: a proxy or web server at the kubeconfig's
   * address answers discovery with 404s, which would otherwise read as "this kind is not installed".
   */
  async verifyApiServer(): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.request(HttpMethod.GET, '/api');
    } catch (e) {
      if (statusOf(e) === 401 || statusOf(e) === 403) return; // a real API server that refuses us
      throw new Error(
        `${displayServer(this.server)} is not a Kubernetes API server: GET /api answered ${describeApiError(e)}. ` +
          "Check the kubeconfig's server address (host, port and path; not the app's or a proxy's URL).",
        { cause: e },
      );
    }
    if ((answer as { kind?: unknown } | undefined)?.kind !== 'APIVersions') {
      throw new Error(
        `${displayServer(this.server)} is not a Kubernetes API server: GET /api answered 200 without an APIVersions document. ` +
          "Check the kubeconfig's server address (host, port and path; not the app's or a proxy's URL).",
      );
    }
  }

  /** An authentication step that failed before the request: most often an exec plugin not installed. */
  private credentialsError(e: unknown): Error {
    const user = this.kc.getCurrentUser();
    const exec = user?.exec as { command?: string; installHint?: string } | undefined;
    const why = e instanceof Error ? e.message : String(e);
    if (exec?.command) {
      return new Error(
        `kubeconfig user "${user?.name}" gets its credentials from the exec plugin "${exec.command}", which failed: ${why}. ` +
          (exec.installHint?.trim() ||
            `Install "${exec.command}" on the runner (and put it on PATH) before this step, or use a kubeconfig with a token.`),
        { cause: e },
      );
    }
    return new Error(`could not get credentials for kubeconfig user "${user?.name ?? '(none)'}": ${why}`, {
      cause: e,
    });
  }

  /** The live object, or undefined when it does not exist. */
  async get<T = LiveObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    try {
      return await this.request<T>(
        HttpMethod.GET,
        await this.discovery.pathFor(apiVersion, kind, namespace, name),
      );
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every object of a kind (all pages). */
  async list<T = LiveObject>(
    apiVersion: string,
    kind: string,
    /** namespace null: every namespace the identity may list. */
    opts: { namespace?: string | null; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<ObjectList<T>> {
    const path = await this.discovery.pathFor(apiVersion, kind, opts.namespace);
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
    return (await this.applyWithStatus<T>(obj, opts)).object;
  }

  /**
   * apply, also saying whether this request created the object (the API server answers 201
   * Created rather than 200 OK). A retried apply whose first answer was lost says false.
   */
  async applyWithStatus<T = LiveObject>(
    obj: KubeObject,
    opts: { force?: boolean } = {},
  ): Promise<{ object: T; created: boolean }> {
    const path = await this.discovery.pathFor(
      obj.apiVersion,
      obj.kind,
      obj.metadata.namespace,
      obj.metadata.name,
    );
    // SSA is idempotent by design: replaying the same intent yields the same object.
    const { status, body } = await this.exchange<T>(HttpMethod.PATCH, path, {
      query: { fieldManager: this.fieldManager, force: opts.force ? true : undefined },
      body: obj,
      contentType: PatchStrategy.ServerSideApply,
      idempotent: true,
    });
    return { object: body, created: status === 201 };
  }

  /**
   * Deletes; false when it was already gone. With `uid`, only that very object: one deleted and
   * made again under the same name since it was read answers 409 Conflict instead.
   */
  async delete(
    apiVersion: string,
    kind: string,
    name: string,
    namespace?: string,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; uid?: string } = {},
  ): Promise<boolean> {
    try {
      await this.request(HttpMethod.DELETE, await this.discovery.pathFor(apiVersion, kind, namespace, name), {
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: opts.propagationPolicy ?? 'Background',
          ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
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

  /** List-then-watch a kind until `done(objects)` holds or the timeout passes; see watch.ts. */
  observe<T extends LiveObject = LiveObject>(
    apiVersion: string,
    kind: string,
    opts: ObserveOptions,
    done: (objects: Map<string, T>) => boolean,
  ): Promise<boolean> {
    return observe(this, apiVersion, kind, opts, done);
  }
}

export function createKubeClient(kc: KubeConfig, opts: KubeClientOptions): KubeClient {
  return new KubeClient(kc, opts);
}
