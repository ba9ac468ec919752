// What kubestage creates in every preview namespace so that many previews can share a cluster: a
// ResourceQuota (what the preview may use), a LimitRange (per-container defaults, so a pod without
// resources still counts against the quota), and a NetworkPolicy (in: only the namespace itself and the
// ingress controller; out: the namespace, cluster DNS and the internet, never other namespaces' pods or
// the cloud metadata address). Pure: options in, objects out.
import type { KubeObject } from './kube-object.js';

export const ISOLATION_NAME = 'kubestage-preview';

/** `requests.cpu=2,requests.memory=4Gi,…` as the quota input gives it. */
export const DEFAULT_QUOTA =
  'requests.cpu=2,requests.memory=4Gi,limits.cpu=4,limits.memory=8Gi,pods=20,services.loadbalancers=0,services.nodeports=0,persistentvolumeclaims=5,requests.storage=20Gi';
/** Per-container defaults: the development sizes. */
export const DEFAULT_LIMITS = 'requests.cpu=50m,requests.memory=64Mi,limits.cpu=200m,limits.memory=256Mi';
export const DEFAULT_INGRESS_FROM = 'kubernetes.io/metadata.name=ingress-nginx';
/** Private ranges (pods, Services, nodes), link-local (the metadata address 169.254.169.254) and CGNAT. */
export const DEFAULT_EGRESS_DENY =
  '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,100.64.0.0/10,fc00::/7,fe80::/10';

export interface IsolationOptions {
  /** ResourceQuota `spec.hard`; undefined: none. */
  quota?: Record<string, string>;
  /** LimitRange container defaults; undefined: none. */
  limits?: { defaultRequest: Record<string, string>; default: Record<string, string> };
  /** undefined: no NetworkPolicy. */
  network?: {
    /** matchLabels of the namespaces allowed in (the ingress controller's). */
    ingressFrom: Record<string, string>;
    /** CIDRs internet egress excludes. */
    egressDeny: string[];
  };
}

const QUOTA_KEYS = new Set([
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'cpu',
  'memory',
  'pods',
  'services',
  'services.loadbalancers',
  'services.nodeports',
  'persistentvolumeclaims',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
  'configmaps',
  'secrets',
]);
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** `key=value,…` (commas or new lines); `off` → undefined. Throws naming the bad entry. */
export function parseQuota(text: string, input = 'quota'): Record<string, string> | undefined {
  const pairs = parsePairs(text, input);
  if (!pairs) return undefined;
  for (const [k, v] of Object.entries(pairs)) {
    if (!QUOTA_KEYS.has(k) && !/^count\/[a-z0-9.-]+$/.test(k))
      throw new Error(
        `The \`${input}\` input names "${k}", which is not a ResourceQuota resource kubestage sets; use ${[...QUOTA_KEYS].join(', ')} or count/<resource>.<group>`,
      );
    if (!QUANTITY.test(v))
      throw new Error(
        `The \`${input}\` input gives ${k}="${v}", which is not a quantity (e.g. 2, 500m, 4Gi)`,
      );
  }
  return pairs;
}

/** The `limits` input: `requests.cpu=…,requests.memory=…,limits.cpu=…,limits.memory=…`; `off` → undefined. */
export function parseLimits(text: string): IsolationOptions['limits'] {
  const pairs = parsePairs(text, 'limits');
  if (!pairs) return undefined;
  const out = { defaultRequest: {} as Record<string, string>, default: {} as Record<string, string> };
  for (const [k, v] of Object.entries(pairs)) {
    const m = /^(requests|limits)\.(cpu|memory|ephemeral-storage)$/.exec(k);
    if (!m)
      throw new Error(
        `The \`limits\` input names "${k}"; use requests.cpu, requests.memory, limits.cpu, limits.memory (per-container defaults)`,
      );
    if (!QUANTITY.test(v))
      throw new Error(`The \`limits\` input gives ${k}="${v}", which is not a quantity (e.g. 50m, 64Mi)`);
    (m[1] === 'requests' ? out.defaultRequest : out.default)[m[2] as string] = v;
  }
  return out;
}

/** `key=value` label pairs (a matchLabels selector). */
export function parseSelector(text: string, input: string): Record<string, string> {
  const pairs = parsePairs(text, input);
  if (!pairs || Object.keys(pairs).length === 0)
    throw new Error(`The \`${input}\` input is empty; give labels such as ${DEFAULT_INGRESS_FROM}`);
  return pairs;
}

export function parseCidrs(text: string, input: string): string[] {
  const out = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of out) {
    if (!/^[0-9a-fA-F:.]+\/[0-9]{1,3}$/.test(c))
      throw new Error(`The \`${input}\` input has "${c}", which is not a CIDR (e.g. 169.254.0.0/16)`);
  }
  return out;
}

function parsePairs(text: string, input: string): Record<string, string> | undefined {
  const t = text.trim();
  if (/^(off|none|false)$/i.test(t)) return undefined;
  const out: Record<string, string> = {};
  for (const raw of t.split(/[\n,]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`The \`${input}\` input has "${entry}"; write key=value (or "off")`);
    out[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return out;
}

/** The objects, labelled like everything else kubestage applies (so prune removes one turned off). */
export function isolationObjects(
  opts: IsolationOptions,
  namespace: string,
  labels: Record<string, string>,
): KubeObject[] {
  const metadata = (): KubeObject['metadata'] => ({ name: ISOLATION_NAME, namespace, labels: { ...labels } });
  const out: KubeObject[] = [];
  if (opts.quota)
    out.push({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: metadata(),
      spec: { hard: { ...opts.quota } },
    });
  if (opts.limits)
    out.push({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: metadata(),
      spec: {
        limits: [
          { type: 'Container', default: opts.limits.default, defaultRequest: opts.limits.defaultRequest },
        ],
      },
    });
  if (opts.network) {
    const v4 = opts.network.egressDeny.filter((c) => !c.includes(':'));
    const v6 = opts.network.egressDeny.filter((c) => c.includes(':'));
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              { podSelector: {} },
              { namespaceSelector: { matchLabels: { ...opts.network.ingressFrom } } },
            ],
          },
        ],
        egress: [
          { to: [{ podSelector: {} }] },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
          {
            to: [
              { ipBlock: { cidr: '0.0.0.0/0', ...(v4.length ? { except: v4 } : {}) } },
              { ipBlock: { cidr: '::/0', ...(v6.length ? { except: v6 } : {}) } },
            ],
          },
        ],
      },
    });
  }
  return out;
}
