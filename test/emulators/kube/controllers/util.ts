// Pure helpers shared by the simulated controllers: template hashing, conditions, selectors and
// the pod a workload controller creates from its template.
import type { KObject, ObjectMeta } from '../store.js';
import { SAFE_ALPHABET } from './runtime.js';

export interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  restartPolicy?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  [key: string]: unknown;
}

export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

/** JSON with sorted keys, so that equal templates hash equally whatever the key order. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod-template-hash as the deployment controller forms it: FNV-32a of the template (plus the
 * collision count), printed in decimal and mapped through rand.SafeEncodeString.
 */
export function templateHash(template: unknown, collisionCount?: number): string {
  const decimal = String(fnv32a(stableJson(template) + (collisionCount ? String(collisionCount) : '')));
  let out = '';
  for (const ch of decimal) out += SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length];
  return out;
}

export function matchesSelector(
  sel: LabelSelectorObject | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const inValues = has && (e.values ?? []).includes(l[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * Sets one condition, keeping lastTransitionTime while the status is unchanged and the whole
 * condition while nothing changed (so repeated reconciles write nothing). `touch` refreshes
 * lastUpdateTime even when reason and message are the same (deployment progress).
 */
export function setCondition(
  list: Condition[],
  c: Condition,
  now: string,
  opts: { updateTime?: boolean; touch?: boolean; probeTime?: boolean } = {},
): Condition[] {
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  if (
    prev &&
    prev.status === c.status &&
    prev.reason === c.reason &&
    prev.message === c.message &&
    !opts.touch
  ) {
    return list;
  }
  const next: Condition = { type: c.type, status: c.status };
  if (opts.probeTime) next.lastProbeTime = null;
  if (opts.updateTime) next.lastUpdateTime = now;
  next.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now;
  if (c.reason) next.reason = c.reason;
  if (c.message) next.message = c.message;
  const out = [...list];
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

export function isTrue(conds: Condition[] | undefined, type: string): boolean {
  return conds?.some((c) => c.type === type && c.status === 'True') ?? false;
}

export interface PodStatusView {
  phase?: string;
  conditions?: Condition[];
  containerStatuses?: { restartCount?: number; ready?: boolean; state?: { waiting?: { reason?: string } } }[];
}

export function podStatus(p: KObject): PodStatusView {
  return (p.status as PodStatusView | undefined) ?? {};
}

export function podReady(p: KObject): boolean {
  return isTrue(podStatus(p).conditions, 'Ready');
}

export function podTerminal(p: KObject): boolean {
  const phase = podStatus(p).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** A pod that counts toward a workload's replicas: not finished and not being deleted. */
export function podActive(p: KObject): boolean {
  return !podTerminal(p) && !p.metadata.deletionTimestamp;
}

function defaultContainer(c: Container): Container {
  const image = c.image ?? '';
  const tagged = /:[^/]+$/.test(image.replace(/@.*$/, '')) || image.includes('@');
  return {
    imagePullPolicy: !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    resources: {},
    ...c,
  };
}

/** The pod a controller creates from its template, with the API server's defaults filled in. */
export function podFromTemplate(
  owner: KObject,
  name: string,
  template: PodTemplate | undefined,
  extraLabels: Record<string, string>,
  extraSpec: Record<string, unknown> = {},
): KObject {
  const spec = (template?.spec ?? { containers: [] }) as PodSpec;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(template?.metadata?.labels ?? {}), ...extraLabels },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [
        {
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.metadata.name ?? '',
          uid: owner.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      securityContext: {},
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      ...spec,
      ...extraSpec,
      containers: (spec.containers ?? []).map(defaultContainer),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(defaultContainer) } : {}),
    },
    status: { phase: 'Pending', qosClass: qosClass(spec) },
  };
}

export function qosClass(spec: PodSpec): string {
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const any = all.some(
    (c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length,
  );
  if (!any) return 'BestEffort';
  const guaranteed = all.every((c) => {
    const lim = c.resources?.limits ?? {};
    const req = c.resources?.requests ?? lim;
    return ['cpu', 'memory'].every((r) => lim[r] !== undefined && req[r] === lim[r]);
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Drops zero / empty fields the way Go's `omitempty` would, so status reads like the real one. */
export function omitEmpty<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === 0 || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

/** Resolves an int-or-percent (maxUnavailable) against a total, rounding down like the real one. */
export function intOrPercent(v: unknown, total: number, fallback: string, roundUp = false): number {
  const raw = v ?? fallback;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)%$/.exec(String(raw));
  if (!m) return Number(raw) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

const QUANTITY_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A resource.Quantity as a number (cpu in cores, memory in bytes); 0 when unreadable. */
export function quantity(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(q ?? '').trim());
  if (!m) return 0;
  return Number(m[1]) * (QUANTITY_SUFFIX[m[2]] ?? 1);
}

/**
 * What a pod asks of a node (the scheduler's computePodResourceRequest): the sum over containers,
 * or the largest init container when that is more; a limit stands in for a missing request.
 */
export function podRequests(spec: PodSpec): Record<'cpu' | 'memory', number> {
  const of = (c: Container, r: 'cpu' | 'memory') =>
    quantity(c.resources?.requests?.[r] ?? c.resources?.limits?.[r] ?? 0);
  const out = { cpu: 0, memory: 0 };
  for (const r of ['cpu', 'memory'] as const) {
    const sum = (spec.containers ?? []).reduce((n, c) => n + of(c, r), 0);
    const init = Math.max(0, ...(spec.initContainers ?? []).map((c) => of(c, r)));
    out[r] = Math.max(sum, init);
  }
  return out;
}
