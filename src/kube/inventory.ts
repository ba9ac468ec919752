// The inventory (cli-utils' inventory/): the kinds a preview applied, recorded on its namespace in
// the kubestage.dev/applied-kinds annotation, so that prune and cleanup list only those kinds
// instead of every kind the cluster serves. The record is a hint, never a limit on safety: when it
// is absent, unreadable or too long, callers fall back to listing every kind. And what the
// namespace holds of those kinds, listed once per run (NamespaceInventory).
import type { Logger } from '../logger.js';
import { apiGroup } from '../model/kube-object.js';
import { ANNOTATION_APPLIED_KINDS } from '../model/labels.js';
import { objectKey } from '../model/object-id.js';
import type { KubeClient } from './client.js';
import type { ApiResource } from './discovery.js';
import { describeApiError } from './errors.js';
import { mapSettled } from './pool.js';
import type { LiveObject } from './types.js';

/** An apiVersion and kind, as in a manifest. */
export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** More kinds than this are not recorded (the annotation is left empty: list every kind). */
export const MAX_RECORDED_KINDS = 100;

/** The distinct kinds among these objects and kind lists, sorted by apiVersion then kind. */
export function mergeKinds(...lists: (readonly KindRef[] | undefined)[]): KindRef[] {
  const out = new Map<string, KindRef>();
  for (const list of lists)
    for (const k of list ?? [])
      out.set(`${k.apiVersion} ${k.kind}`, { apiVersion: k.apiVersion, kind: k.kind });
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/**
 * The value of the namespace annotation kubestage.dev/applied-kinds: a JSON array of
 * "apiVersion Kind" strings, sorted, for the kinds of `objects` together with `previous` (the kinds
 * recorded before, whose objects prune has still to look for). Empty when there are more than
 * MAX_RECORDED_KINDS, which prune reads as "unknown" (it then lists every kind).
 */
export function appliedKindsAnnotation(objects: readonly KindRef[], previous?: readonly KindRef[]): string {
  const kinds = mergeKinds(previous, objects);
  if (kinds.length > MAX_RECORDED_KINDS) return '';
  return JSON.stringify(kinds.map((k) => `${k.apiVersion} ${k.kind}`));
}

/** The kinds in an applied-kinds annotation; undefined when absent, empty or unreadable. */
export function parseAppliedKinds(value: string | undefined): KindRef[] | undefined {
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const kinds: KindRef[] = [];
  for (const item of parsed) {
    if (typeof item !== 'string') return undefined;
    const m = /^(\S+) (\S+)$/.exec(item);
    if (!m) return undefined;
    kinds.push({ apiVersion: m[1] as string, kind: m[2] as string });
  }
  return mergeKinds(kinds);
}

/** The recorded kinds of a namespace (its applied-kinds annotation); undefined when not recorded. */
export function recordedKinds(ns: LiveObject | undefined): KindRef[] | undefined {
  return parseAppliedKinds(ns?.metadata.annotations?.[ANNOTATION_APPLIED_KINDS]);
}

/**
 * Discovery of these kinds only (one request per group/version), one entry per group and kind. A
 * recorded apiVersion the server no longer serves is looked up by group and kind at the preferred
 * version; a kind the server does not serve at all (its CRD is gone, and its objects with it) is skipped.
 */
export async function resolveKinds(
  client: KubeClient,
  kinds: readonly KindRef[],
  logger: Logger,
): Promise<ApiResource[]> {
  const out = new Map<string, ApiResource>();
  const missing: KindRef[] = [];
  const found = await mapSettled([...kinds], 8, (k) => client.discovery.resourceFor(k.apiVersion, k.kind));
  found.forEach((res, i) => {
    const k = kinds[i] as KindRef;
    if (res.status === 'fulfilled' && res.value) {
      if (!out.has(`${res.value.group} ${res.value.kind}`))
        out.set(`${res.value.group} ${res.value.kind}`, res.value);
    } else {
      if (res.status === 'rejected')
        logger.debug(`could not look up ${k.kind} (${k.apiVersion}): ${describeApiError(res.reason)}`);
      missing.push(k);
    }
  });
  const unresolved = missing.filter((k) => !out.has(`${apiGroup(k.apiVersion)} ${k.kind}`));
  if (unresolved.length) {
    let all: ApiResource[] = [];
    try {
      all = await client.discovery.serverResources();
    } catch (e) {
      logger.debug(`API discovery failed: ${describeApiError(e)}`);
    }
    for (const k of unresolved) {
      const r = all.find((a) => a.group === apiGroup(k.apiVersion) && a.kind === k.kind);
      if (r) out.set(`${r.group} ${r.kind}`, r);
      else logger.debug(`${k.kind} (${k.apiVersion}) is no longer served; nothing of it to look for`);
    }
  }
  return [...out.values()];
}

/** One object an inventory listed, with the discovery entry of its kind. */
export interface InventoryItem {
  resource: ApiResource;
  object: LiveObject;
}

/**
 * What a namespace held of some kinds at one moment, each kind listed once (cli-utils keeps the
 * same record as an inventory object). The apply tells created/configured/unchanged from it (an
 * object absent from a kind listed in full was created; one whose resourceVersion did not move was
 * unchanged), and prune finds in it what kubestage applied that the render no longer has.
 */
export interface NamespaceInventory {
  namespace: string;
  /** objectKey (namespace included) → what was listed. */
  items: Map<string, InventoryItem>;
  /**
   * `group kind` of every kind listed: 'all' when listed without a selector (so an object missing
   * from it did not exist), 'ours' when listed by our instance selector (enough for prune).
   */
  listed: Map<string, 'all' | 'ours'>;
  /** Kinds whose LIST failed (RBAC, an aggregated API down), with the error. */
  unlisted: { resource: ApiResource; error: unknown }[];
}

/** The key NamespaceInventory.listed uses for a kind. */
export function inventoryKindKey(k: { group: string; kind: string }): string {
  return `${k.group} ${k.kind}`;
}

/** An inventory of nothing, to which takeInventory adds. */
export function emptyInventory(namespace: string): NamespaceInventory {
  return { namespace, items: new Map(), listed: new Map(), unlisted: [] };
}

/**
 * Lists each of `resources` once in the namespace (in parallel, bounded) into `into`, with
 * `labelSelector` when given; never throws: a kind that cannot be listed is recorded in `unlisted`.
 */
export async function takeInventory(
  client: KubeClient,
  into: NamespaceInventory,
  resources: readonly ApiResource[],
  opts: { labelSelector?: string; concurrency?: number } = {},
): Promise<NamespaceInventory> {
  const { namespace } = into;
  const kinds = resources.filter((r) => r.namespaced && r.verbs.includes('list'));
  const lists = await mapSettled(kinds, opts.concurrency ?? 16, (r) =>
    client.list(r.apiVersion, r.kind, { namespace, labelSelector: opts.labelSelector }),
  );
  lists.forEach((res, i) => {
    const resource = kinds[i] as ApiResource;
    if (res.status === 'rejected') {
      into.unlisted.push({ resource, error: res.reason });
      return;
    }
    into.listed.set(inventoryKindKey(resource), opts.labelSelector ? 'ours' : 'all');
    for (const object of res.value.items) {
      const id = { group: resource.group, kind: resource.kind, namespace, name: object.metadata.name };
      into.items.set(objectKey(id), { resource, object });
    }
  });
  return into;
}

/**
 * The discovery entries of these kinds at exactly their apiVersion (one request per group/version,
 * cached), one per group and kind; a kind the server does not serve is left out (applying it says why).
 */
export async function servedResources(client: KubeClient, kinds: readonly KindRef[]): Promise<ApiResource[]> {
  const found = await mapSettled([...kinds], 8, (k) => client.discovery.resourceFor(k.apiVersion, k.kind));
  const out = new Map<string, ApiResource>();
  for (const res of found) {
    if (res.status === 'fulfilled' && res.value && !out.has(inventoryKindKey(res.value)))
      out.set(inventoryKindKey(res.value), res.value);
  }
  return [...out.values()];
}
