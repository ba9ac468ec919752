// LimitRange, as kube-apiserver's LimitRanger admission plugin (plugin/pkg/admission/limitranger)
// applies it: the defaults a LimitRange item gets when it is stored (SetDefaults_LimitRangeItem),
// the requests and limits it fills into each container of a new pod (with the
// `kubernetes.io/limit-ranger` annotation), and the min / max / maxLimitRequestRatio checks of
// containers, pods and claims, worded as the real plugin words its refusals.
import { isMap } from './patch.js';
import { formatQuantity, parseList, type Quantity } from './quantity.js';
import { podAggregate, type ResourceList } from './quota.js';
import type { KObject, Store } from './store.js';

type JsonMap = Record<string, unknown>;

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

interface LimitItem {
  type?: string;
  min?: JsonMap;
  max?: JsonMap;
  default?: JsonMap;
  defaultRequest?: JsonMap;
  maxLimitRequestRatio?: JsonMap;
}

function items(lr: KObject): LimitItem[] {
  const spec = isMap(lr.spec) ? lr.spec : {};
  return Array.isArray(spec.limits) ? (spec.limits.filter(isMap) as LimitItem[]) : [];
}

/**
 * SetDefaults_LimitRangeItem, for a LimitRange being stored: a Container item's missing default
 * limit comes from max, its missing default request from the default limit, then from min.
 */
export function defaultLimitRange(lr: KObject): void {
  for (const item of items(lr)) {
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {});
    const req = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) req[k] ??= v;
    for (const [k, v] of Object.entries(item.min ?? {})) req[k] ??= v;
  }
}

function limitRangesIn(store: Store, ns: string | undefined): KObject[] {
  const t = store.findType('', 'v1', 'limitranges');
  return t && ns ? store.list(t, ns) : [];
}

interface ContainerMut {
  name?: string;
  resources?: { requests?: JsonMap; limits?: JsonMap };
}

/**
 * The plugin's mutation of a new pod: each container gets the first LimitRange's default request
 * and limit for every resource it does not state, and the pod says so in an annotation.
 */
export function applyLimitRangeDefaults(store: Store, pod: KObject): void {
  const spec = isMap(pod.spec) ? pod.spec : undefined;
  if (!spec) return;
  const notes: string[] = [];
  for (const lr of limitRangesIn(store, pod.metadata.namespace)) {
    const container = items(lr).find((i) => i.type === 'Container');
    if (!container) continue;
    const lists: [string, unknown][] = [
      ['container', spec.containers],
      ['init container', spec.initContainers],
    ];
    for (const [prefix, list] of lists) {
      for (const c of Array.isArray(list) ? (list.filter(isMap) as ContainerMut[]) : []) {
        const res = (c.resources ??= {});
        const limits = (res.limits ??= {});
        const requests = (res.requests ??= {});
        const setLimits: string[] = [];
        const setRequests: string[] = [];
        for (const [k, v] of Object.entries(container.default ?? {})) {
          if (limits[k] !== undefined) continue;
          limits[k] = v;
          setLimits.push(k);
        }
        for (const [k, v] of Object.entries(container.defaultRequest ?? {})) {
          if (requests[k] !== undefined) continue;
          requests[k] = v;
          setRequests.push(k);
        }
        if (Object.keys(limits).length === 0) delete res.limits;
        if (Object.keys(requests).length === 0) delete res.requests;
        if (setRequests.length)
          notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name}`);
        if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name}`);
      }
    }
  }
  if (notes.length)
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
    };
}

const fmt = (q: Quantity) => formatQuantity(q);

function minConstraint(
  type: string,
  r: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(r);
  const lim = limits.get(r);
  if (!req) return `minimum ${r} usage per ${type} is ${fmt(enforced)}.  No request is specified`;
  if (req.nanos < enforced.nanos)
    return `minimum ${r} usage per ${type} is ${fmt(enforced)}, but request is ${fmt(req)}`;
  if (lim && lim.nanos < enforced.nanos)
    return `minimum ${r} usage per ${type} is ${fmt(enforced)}, but limit is ${fmt(lim)}`;
  return undefined;
}

function maxConstraint(
  type: string,
  r: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(r);
  const lim = limits.get(r);
  if (!lim) return `maximum ${r} usage per ${type} is ${fmt(enforced)}.  No limit is specified`;
  if (lim.nanos > enforced.nanos)
    return `maximum ${r} usage per ${type} is ${fmt(enforced)}, but limit is ${fmt(lim)}`;
  if (req && req.nanos > enforced.nanos)
    return `maximum ${r} usage per ${type} is ${fmt(enforced)}, but request is ${fmt(req)}`;
  return undefined;
}

function maxRequestConstraint(
  type: string,
  r: string,
  enforced: Quantity,
  requests: ResourceList,
): string | undefined {
  const req = requests.get(r);
  if (!req) return `maximum ${r} usage per ${type} is ${fmt(enforced)}.  No request is specified`;
  if (req.nanos > enforced.nanos)
    return `maximum ${r} usage per ${type} is ${fmt(enforced)}, but request is ${fmt(req)}`;
  return undefined;
}

function ratioConstraint(
  type: string,
  r: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = requests.get(r);
  const lim = limits.get(r);
  const reqValue = Number(req?.nanos ?? 0n);
  if (reqValue <= 0)
    return `${r} max limit to request ratio per ${type} is ${fmt(enforced)}, but no request is specified or request is 0`;
  const ratio = Number(lim?.nanos ?? 0n) / reqValue;
  if (ratio > Number(enforced.nanos) / 1e9)
    return `${r} max limit to request ratio per ${type} is ${fmt(enforced)}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function check(
  item: LimitItem,
  type: string,
  requests: ResourceList,
  limits: ResourceList,
  out: string[],
): void {
  const sorted = (m: JsonMap | undefined) => [...parseList(m)].sort(([a], [b]) => a.localeCompare(b));
  for (const [r, q] of sorted(item.min)) out.push(minConstraint(type, r, q, requests, limits) ?? '');
  for (const [r, q] of sorted(item.max)) out.push(maxConstraint(type, r, q, requests, limits) ?? '');
  for (const [r, q] of sorted(item.maxLimitRequestRatio))
    out.push(ratioConstraint(type, r, q, requests, limits) ?? '');
}

/** utilerrors.NewAggregate(errs).Error(): one message as is, several deduplicated in brackets. */
function aggregate(errs: string[]): string | undefined {
  const unique = [...new Set(errs.filter(Boolean))];
  if (unique.length === 0) return undefined;
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

/**
 * The plugin's validation of a new pod or claim: undefined when allowed, else the reason the API
 * server gives after `pods "<name>" is forbidden: ` (`maximum cpu usage per Container is 1, but limit is 2`).
 */
export function limitRangeDenial(store: Store, kind: string, o: KObject): string | undefined {
  if (kind !== 'Pod' && kind !== 'PersistentVolumeClaim') return undefined;
  const spec = isMap(o.spec) ? o.spec : {};
  const errs: string[] = [];
  for (const lr of limitRangesIn(store, o.metadata.namespace)) {
    for (const item of items(lr)) {
      if (kind === 'PersistentVolumeClaim') {
        if (item.type !== 'PersistentVolumeClaim') continue;
        const requests = parseList(isMap(spec.resources) ? spec.resources.requests : undefined);
        for (const [r, q] of parseList(item.min))
          errs.push(minConstraint(item.type, r, q, requests, new Map()) ?? '');
        for (const [r, q] of parseList(item.max))
          errs.push(maxRequestConstraint(item.type, r, q, requests) ?? '');
        continue;
      }
      if (item.type === 'Container') {
        const all = [spec.containers, spec.initContainers].flatMap((l) =>
          Array.isArray(l) ? (l.filter(isMap) as ContainerMut[]) : [],
        );
        for (const c of all)
          check(item, 'Container', parseList(c.resources?.requests), parseList(c.resources?.limits), errs);
      } else if (item.type === 'Pod') {
        check(item, 'Pod', podAggregate(spec, 'requests'), podAggregate(spec, 'limits'), errs);
      }
    }
  }
  return aggregate(errs);
}
