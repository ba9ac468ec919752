// The inventory (cli-utils' inventory/): the kinds a preview applied, recorded on its namespace in
// the kubestage.dev/applied-kinds annotation, so that prune and cleanup list only those kinds
// instead of every kind the cluster serves. The record is a hint, never a limit on safety: when it
// is absent, unreadable or too long, callers fall back to listing every kind.
import type { Logger } from '../logger.js';
import { apiGroup } from '../model/kube-object.js';
import { ANNOTATION_APPLIED_KINDS } from '../model/labels.js';
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
