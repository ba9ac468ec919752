// ResourceQuota, as kube-apiserver's ResourceQuota admission plugin and kube-controller-manager's
// resourcequota controller do it (plugin/pkg/admission/resourcequota, pkg/quota/v1/evaluator/core):
// what an object uses (pods: compute requests and limits of a pod that is not finished; services:
// load balancers and node ports; claims: storage; every kind: `count/<resource>.<group>`), the
// "must specify" constraint for pods when a quota tracks cpu or memory, and the refusal of a create
// that would take usage over `hard`, worded as the real plugin words it. The controller part keeps
// `status.hard` and `status.used` of every quota in step with the store.
import { isMap } from './patch.js';
import { addQuantity, formatQuantity, maxQuantity, parseList, ZERO, type Quantity } from './quantity.js';
import type { KObject, ResourceType, Store, StoreEvent } from './store.js';

type JsonMap = Record<string, unknown>;
export type ResourceList = Map<string, Quantity>;

const one = (): Quantity => ({ nanos: 1_000_000_000n, format: 'DecimalSI' });

/** `count/pods`, `count/deployments.apps`: the object-count name of a resource. */
export function countName(t: Pick<ResourceType, 'group' | 'plural'>): string {
  return `count/${t.plural}${t.group ? `.${t.group}` : ''}`;
}

/** The legacy object-count names of core kinds (`configmaps: 5` counts ConfigMaps). */
const LEGACY_COUNTS: Record<string, string> = {
  configmaps: 'configmaps',
  secrets: 'secrets',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

const POD_RESOURCES = new Set([
  'count/pods',
  'pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
]);
/** Resources a quota on cpu or memory requires every container to state (the backward-compatible rule). */
const VALIDATION_SET = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** Whether the evaluator of `t` measures `name` (MatchingResources). */
export function tracks(t: Pick<ResourceType, 'group' | 'plural'>, name: string): boolean {
  if (name === countName(t)) return true;
  if (t.group !== '') return false;
  if (LEGACY_COUNTS[t.plural] === name) return true;
  switch (t.plural) {
    case 'pods':
      return (
        POD_RESOURCES.has(name) ||
        name.startsWith('hugepages-') ||
        name.startsWith('requests.hugepages-') ||
        (name.startsWith('requests.') && !isNativeResource(name.slice('requests.'.length)))
      );
    case 'services':
      return ['services', 'services.loadbalancers', 'services.nodeports'].includes(name);
    case 'persistentvolumeclaims':
      return (
        name === 'persistentvolumeclaims' ||
        name === 'requests.storage' ||
        (name.includes(STORAGE_CLASS_SUFFIX) &&
          (name.endsWith('/requests.storage') || name.endsWith('/persistentvolumeclaims')))
      );
  }
  return false;
}

function add(list: ResourceList, name: string, q: Quantity): void {
  list.set(name, addQuantity(list.get(name) ?? ZERO, q));
}

interface ContainerView {
  name?: string;
  restartPolicy?: string;
  resources?: { requests?: unknown; limits?: unknown };
}

function containers(spec: JsonMap, key: 'containers' | 'initContainers'): ContainerView[] {
  const v = spec[key];
  return Array.isArray(v) ? (v.filter(isMap) as ContainerView[]) : [];
}

/**
 * PodRequests / PodLimits of k8s.io/kubernetes pkg/api/v1/resource: the sum over containers and
 * restartable (sidecar) init containers, or the largest regular init container (plus the sidecars
 * started before it) when that is more; plus the pod overhead.
 */
export function podAggregate(spec: JsonMap, which: 'requests' | 'limits'): ResourceList {
  const of = (c: ContainerView) => parseList(c.resources?.[which]);
  const sum: ResourceList = new Map();
  for (const c of containers(spec, 'containers')) for (const [k, q] of of(c)) add(sum, k, q);
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of containers(spec, 'initContainers')) {
    if (c.restartPolicy === 'Always') {
      for (const [k, q] of of(c)) {
        add(sidecars, k, q);
        add(sum, k, q);
      }
      continue;
    }
    for (const [k, q] of of(c)) {
      const withSidecars = addQuantity(q, sidecars.get(k) ?? ZERO);
      initMax.set(k, maxQuantity(initMax.get(k) ?? ZERO, withSidecars));
    }
  }
  for (const [k, q] of initMax) sum.set(k, maxQuantity(sum.get(k) ?? ZERO, q));
  for (const [k, q] of parseList(spec.overhead)) add(sum, k, q);
  return sum;
}

/** podComputeUsageHelper: quota names for a set of requests and limits. */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', one()]]);
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [r, q] of requests) {
    if (r.startsWith('hugepages-')) {
      out.set(r, q);
      out.set(`requests.${r}`, q);
    } else if (!isNativeResource(r)) out.set(`requests.${r}`, q);
  }
  return out;
}

function podTerminal(pod: KObject): boolean {
  const phase = isMap(pod.status) ? pod.status.phase : undefined;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Usage of one object for quota (the evaluators' Usage). */
export function usageOf(t: Pick<ResourceType, 'group' | 'plural'>, o: KObject): ResourceList {
  const out: ResourceList = new Map([[countName(t), one()]]);
  if (t.group !== '') return out;
  const legacy = LEGACY_COUNTS[t.plural];
  if (legacy) out.set(legacy, one());
  const spec = isMap(o.spec) ? o.spec : {};
  if (t.plural === 'pods') {
    // A finished pod still counts as an object (count/pods) but no longer as a running one.
    if (podTerminal(o)) return out;
    for (const [k, q] of computeUsage(podAggregate(spec, 'requests'), podAggregate(spec, 'limits')))
      out.set(k, q);
  } else if (t.plural === 'services') {
    const ports = Array.isArray(spec.ports) ? spec.ports.filter(isMap) : [];
    out.set('services', one());
    out.set('services.loadbalancers', ZERO);
    out.set('services.nodeports', ZERO);
    const n = (k: number): Quantity => ({ nanos: BigInt(k) * 1_000_000_000n, format: 'DecimalSI' });
    if (spec.type === 'NodePort') out.set('services.nodeports', n(ports.length));
    if (spec.type === 'LoadBalancer') {
      const explicitOnly = spec.allocateLoadBalancerNodePorts === false;
      out.set(
        'services.nodeports',
        n(
          explicitOnly
            ? ports.filter((p) => typeof p.nodePort === 'number' && p.nodePort !== 0).length
            : ports.length,
        ),
      );
      out.set('services.loadbalancers', one());
    }
  } else if (t.plural === 'persistentvolumeclaims') {
    out.set('persistentvolumeclaims', one());
    const resources = isMap(spec.resources) ? spec.resources : {};
    const storage = parseList(resources.requests).get('storage');
    const cls = typeof spec.storageClassName === 'string' ? spec.storageClassName : '';
    if (cls) out.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, one());
    if (storage) {
      out.set('requests.storage', storage);
      if (cls) out.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scopes

interface ScopeSelector {
  scopeName: string;
  operator: string;
  values?: string[];
}

function scopeSelectors(q: KObject): ScopeSelector[] {
  const spec = isMap(q.spec) ? q.spec : {};
  const out: ScopeSelector[] = (Array.isArray(spec.scopes) ? spec.scopes : []).map((s) => ({
    scopeName: String(s),
    operator: 'Exists',
  }));
  const sel = isMap(spec.scopeSelector) ? spec.scopeSelector : {};
  for (const e of Array.isArray(sel.matchExpressions) ? sel.matchExpressions.filter(isMap) : [])
    out.push({
      scopeName: String(e.scopeName),
      operator: String(e.operator),
      values: Array.isArray(e.values) ? e.values.map(String) : undefined,
    });
  return out;
}

function bestEffort(spec: JsonMap): boolean {
  return [...containers(spec, 'containers'), ...containers(spec, 'initContainers')].every((c) =>
    [c.resources?.requests, c.resources?.limits].every(
      (l) => ![...parseList(l).keys()].some((k) => k === 'cpu' || k === 'memory'),
    ),
  );
}

function podMatchesScope(s: ScopeSelector, pod: KObject): boolean {
  const spec = isMap(pod.spec) ? pod.spec : {};
  const terminating = typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
  switch (s.scopeName) {
    case 'Terminating':
      return terminating;
    case 'NotTerminating':
      return !terminating;
    case 'BestEffort':
      return bestEffort(spec);
    case 'NotBestEffort':
      return !bestEffort(spec);
    case 'PriorityClass': {
      const pc = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
      if (s.operator === 'Exists') return pc !== '';
      if (s.operator === 'DoesNotExist') return pc === '';
      const inValues = pc !== '' && (s.values ?? []).includes(pc);
      return s.operator === 'In' ? inValues : !inValues;
    }
  }
  return false;
}

/** Whether quota `q` applies to object `o` of type `t` (generic.Matches: a tracked resource and every scope). */
export function quotaMatches(q: KObject, t: Pick<ResourceType, 'group' | 'plural'>, o: KObject): boolean {
  if (!hardNames(q).some((n) => tracks(t, n))) return false;
  const scopes = scopeSelectors(q);
  if (scopes.length === 0) return true;
  return t.group === '' && t.plural === 'pods' && scopes.every((s) => podMatchesScope(s, o));
}

// ---------------------------------------------------------------------------------------------
// Admission

function hard(q: KObject): ResourceList {
  return parseList(isMap(q.spec) ? q.spec.hard : undefined);
}

function hardNames(q: KObject): string[] {
  return [...hard(q).keys()];
}

/** prettyPrint: `requests.cpu=500m,requests.memory=1Gi`, sorted by name. */
export function prettyPrint(list: ResourceList, names: string[]): string {
  return [...names]
    .sort()
    .map((n) => `${n}=${formatQuantity(list.get(n) ?? ZERO)}`)
    .join(',');
}

/** What the objects of the namespace use against `q` (the controller's CalculateUsage). */
export function quotaUsage(store: Store, q: KObject): ResourceList {
  const ns = q.metadata.namespace ?? '';
  const names = hardNames(q);
  const used: ResourceList = new Map(names.map((n) => [n, ZERO]));
  for (const t of store.allTypes()) {
    if (!t.namespaced || !names.some((n) => tracks(t, n))) continue;
    for (const o of store.list(t, ns)) {
      if (!quotaMatches(q, t, o)) continue;
      for (const [k, v] of usageOf(t, o)) if (used.has(k)) add(used, k, v);
    }
  }
  return used;
}

function quotaType(store: Store): ResourceType | undefined {
  return store.findType('', 'v1', 'resourcequotas');
}

/** The quotas of a namespace, by name. */
export function quotasIn(store: Store, ns: string | undefined): KObject[] {
  const t = quotaType(store);
  return t && ns ? store.list(t, ns) : [];
}

/** Pod Constraints: every container must state what a cpu or memory quota tracks. */
function podConstraints(required: string[], pod: KObject): string | undefined {
  const requiredSet = required.filter((r) => VALIDATION_SET.includes(r));
  if (requiredSet.length === 0) return undefined;
  const spec = isMap(pod.spec) ? pod.spec : {};
  const missing = new Map<string, Set<string>>();
  for (const c of [...containers(spec, 'containers'), ...containers(spec, 'initContainers')]) {
    const has = computeUsage(parseList(c.resources?.requests), parseList(c.resources?.limits));
    for (const r of requiredSet) {
      if (has.has(r)) continue;
      const set = missing.get(r) ?? new Set<string>();
      set.add(String(c.name ?? ''));
      missing.set(r, set);
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

/**
 * The ResourceQuota admission check of a create: undefined when allowed, else the reason the API
 * server gives after `<resource> "<name>" is forbidden: ` (`exceeded quota: …` or `failed quota: …`).
 */
export function quotaDenial(store: Store, t: ResourceType, o: KObject): string | undefined {
  if (!t.namespaced) return undefined;
  const quotas = quotasIn(store, o.metadata.namespace).filter((q) => quotaMatches(q, t, o));
  if (quotas.length === 0) return undefined;
  for (const q of quotas) {
    if (t.group !== '' || t.plural !== 'pods') break;
    const why = podConstraints(
      hardNames(q).filter((n) => tracks(t, n)),
      o,
    );
    if (why) return `failed quota: ${q.metadata.name}: ${why}`;
  }
  const usage = new Map([...usageOf(t, o)].filter(([, v]) => v.nanos !== 0n));
  if (usage.size === 0) return undefined;
  for (const q of quotas) {
    const limits = hard(q);
    const requested = new Map([...usage].filter(([k]) => limits.has(k)));
    if (requested.size === 0) continue;
    const used = quotaUsage(store, q);
    const exceeded = [...requested.keys()].filter(
      (k) => addQuantity(used.get(k) ?? ZERO, requested.get(k)!).nanos > limits.get(k)!.nanos,
    );
    if (exceeded.length)
      return `exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(requested, exceeded)}, used: ${prettyPrint(used, exceeded)}, limited: ${prettyPrint(limits, exceeded)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The resourcequota controller

/** `status.hard` and `status.used` as the controller writes them (canonical quantities). */
export function quotaStatus(
  store: Store,
  q: KObject,
): { hard: Record<string, string>; used: Record<string, string> } {
  const limits = hard(q);
  const used = quotaUsage(store, q);
  const out = { hard: {} as Record<string, string>, used: {} as Record<string, string> };
  for (const [k, v] of [...limits].sort(([a], [b]) => a.localeCompare(b))) {
    out.hard[k] = formatQuantity(v);
    out.used[k] = formatQuantity(used.get(k) ?? ZERO);
  }
  return out;
}

/**
 * Keeps every quota's status current: a change to anything in a namespace that has quotas
 * recomputes them on the next turn of the event loop (never inside the store's listener).
 */
export function startQuotaController(store: Store): () => void {
  const dirty = new Set<string>();
  let handle: NodeJS.Immediate | undefined;
  const sync = (ns: string) => {
    const t = quotaType(store);
    if (!t) return;
    for (const q of store.list(t, ns)) {
      const status = quotaStatus(store, q);
      if (JSON.stringify(q.status) === JSON.stringify(status)) continue;
      try {
        store.update(t, { ...q, status });
      } catch {
        // Changed or gone meanwhile: the event of that change brings us back.
      }
    }
  };
  const flush = () => {
    handle = undefined;
    const batch = [...dirty];
    dirty.clear();
    for (const ns of batch) sync(ns);
  };
  const unsubscribe = store.subscribe((ev: StoreEvent) => {
    const ns = ev.object.metadata.namespace;
    if (!ns || !ev.type_.namespaced) return;
    if (ev.type_.kind !== 'ResourceQuota' && quotasIn(store, ns).length === 0) return;
    dirty.add(ns);
    handle ??= setImmediate(flush);
  });
  return () => {
    unsubscribe();
    if (handle) clearImmediate(handle);
    handle = undefined;
  };
}
