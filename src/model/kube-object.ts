// The shape of a Kubernetes object as rendered by kustomize, and how we name one in messages.

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/**
 * API groups that ship with Kubernetes. Their kinds are unambiguous, so messages say `Deployment/web`
 * rather than `Deployment.apps/web`; kinds from any other group (CRDs, Gateway API) keep the group,
 * because two CRDs may well share a kind name.
 */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'admissionregistration.k8s.io',
  'apiregistration.k8s.io',
  'scheduling.k8s.io',
  'node.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'certificates.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
]);

/** `apps/v1` → `apps`, `v1` → `` (the core group). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** True when the group is one of Kubernetes' own API groups (core, apps, rbac, …). */
export function isBuiltinGroup(group: string): boolean {
  return BUILTIN_GROUPS.has(group);
}

/** `Deployment/web`, `HTTPRoute.gateway.networking.k8s.io/web`: the name we use for an object in every message. */
export function objectRef(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = apiGroup(o.apiVersion);
  const kind = isBuiltinGroup(group) ? o.kind : `${o.kind}.${group}`;
  return `${kind}/${o.metadata.name}`;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string')
  );
}

/**
 * Checks that a parsed YAML document is a usable Kubernetes object and returns it typed, or a reason
 * it is not (the caller knows which file/document it came from and builds the message).
 */
export function checkKubeObject(doc: unknown): { object: KubeObject } | { problem: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return {
      problem: `is ${Array.isArray(doc) ? 'a list' : typeof doc}, not a Kubernetes object (a mapping)`,
    };
  }
  const o = doc as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') return { problem: 'has no apiVersion' };
  if (typeof o.kind !== 'string' || o.kind === '') return { problem: 'has no kind' };
  const md = o.metadata;
  if (typeof md !== 'object' || md === null || Array.isArray(md))
    return { problem: `${o.kind} has no metadata` };
  const m = md as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '') return { problem: `${o.kind} has no metadata.name` };
  if (m.namespace !== undefined && typeof m.namespace !== 'string') {
    return { problem: `${o.kind}/${m.name} has a metadata.namespace that is not a string` };
  }
  for (const field of ['labels', 'annotations'] as const) {
    if (m[field] !== undefined && m[field] !== null && !isStringRecord(m[field])) {
      return {
        problem: `${o.kind}/${m.name} has metadata.${field} whose values are not all strings (quote numbers and booleans, e.g. "true")`,
      };
    }
  }
  return { object: o as KubeObject };
}
