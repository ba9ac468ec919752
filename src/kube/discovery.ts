// API discovery: which kinds the server serves, at which version, namespaced or not, and the URL
// path of an object. Cached for the client's life (one request per group/version per run), except
// for answers that may change within a run: failures, and kinds a CRD may define a moment later.
import type { Logger } from '../logger.js';
import { describeApiError, isNotFound, UnknownKindError } from './errors.js';

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

/** Resolves (apiVersion, kind) → namespaced? synchronously; matches render/guard.ts's ScopeResolver. */
export type SyncScopeResolver = (apiVersion: string, kind: string) => boolean | undefined;

/** A GET of one API path, parsed as JSON (the client's request, with its retries). */
export type DiscoveryGet = <T>(path: string) => Promise<T>;

export class Discovery {
  private readonly gvCache = new Map<string, Promise<ApiResource[] | undefined>>();
  private allResources: Promise<ApiResource[]> | undefined;
  private readonly scopeCache = new Map<string, boolean | undefined>();

  constructor(
    private readonly get: DiscoveryGet,
    private readonly logger: Logger,
  ) {}

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
    const path = groupVersionPath(group, version);
    let list: { resources?: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[] };
    try {
      list = await this.get(path);
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
    const core = await this.get<{ versions?: string[] }>('/api');
    const groups = await this.get<{
      groups?: {
        name: string;
        preferredVersion?: { groupVersion: string };
        versions?: { groupVersion: string }[];
      }[];
    }>('/apis');
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

  /** The URL path of a kind's collection, or of one object when `name` is given. */
  async pathFor(
    apiVersion: string,
    kind: string,
    /** null: across all namespaces (lists and watches only). */
    namespace: string | null | undefined,
    name?: string,
  ): Promise<string> {
    const r = await this.resourceFor(apiVersion, kind);
    if (!r) throw new UnknownKindError(apiVersion, kind);
    const base = groupVersionPath(r.group, r.version);
    const ns =
      r.namespaced && namespace !== null ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
    return `${base}${ns}/${r.name}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }
}

/** The core group lives under /api, every other group under /apis. */
function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}
