// The isolation policy: what a preview may contain. Judged on kustomize's OUTPUT, because kustomize's
// namespace transformer rewrites namespaces, renames Namespace objects and rewrites some binding subjects.
import { apiGroup, objectRef, type KubeObject } from '../model/kube-object.js';
import { NOTHING_ALLOWED, type Allowance } from './allow.js';
import { podSecurityViolations, type PodSecurityLevel } from './pod-security.js';
import { networkPolicyViolations } from './network-policy.js';
import { bindingViolations } from './rbac.js';
import { trafficViolations } from './traffic.js';

/** Is this kind namespaced? `undefined` = the cluster does not know the kind. */
export type ScopeResolver = (apiVersion: string, kind: string) => boolean | undefined;

export interface GuardViolation {
  /** objectRef() of the offending object. */
  object: string;
  reason: string;
}

export class GuardError extends Error {
  constructor(
    message: string,
    readonly violations: GuardViolation[],
  ) {
    super(message);
    this.name = 'GuardError';
  }
}

const NAMESPACED: Record<string, string[]> = {
  '': [
    'Binding',
    'ConfigMap',
    'Endpoints',
    'Event',
    'LimitRange',
    'PersistentVolumeClaim',
    'Pod',
    'PodTemplate',
    'ReplicationController',
    'ResourceQuota',
    'Secret',
    'Service',
    'ServiceAccount',
  ],
  apps: ['ControllerRevision', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'],
  batch: ['CronJob', 'Job'],
  autoscaling: ['HorizontalPodAutoscaler'],
  policy: ['PodDisruptionBudget'],
  'networking.k8s.io': ['Ingress', 'NetworkPolicy'],
  'rbac.authorization.k8s.io': ['Role', 'RoleBinding'],
  'storage.k8s.io': ['CSIStorageCapacity'],
  'coordination.k8s.io': ['Lease'],
  'discovery.k8s.io': ['EndpointSlice'],
  'events.k8s.io': ['Event'],
  'resource.k8s.io': ['ResourceClaim', 'ResourceClaimTemplate'],
  'authorization.k8s.io': ['LocalSubjectAccessReview'],
};

const CLUSTER_SCOPED: Record<string, string[]> = {
  '': ['ComponentStatus', 'Namespace', 'Node', 'PersistentVolume'],
  'rbac.authorization.k8s.io': ['ClusterRole', 'ClusterRoleBinding'],
  'apiextensions.k8s.io': ['CustomResourceDefinition'],
  'admissionregistration.k8s.io': [
    'MutatingAdmissionPolicy',
    'MutatingAdmissionPolicyBinding',
    'MutatingWebhookConfiguration',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
    'ValidatingWebhookConfiguration',
  ],
  'apiregistration.k8s.io': ['APIService'],
  'scheduling.k8s.io': ['PriorityClass'],
  'node.k8s.io': ['RuntimeClass'],
  'storage.k8s.io': ['CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment', 'VolumeAttributesClass'],
  'networking.k8s.io': ['IngressClass', 'IPAddress', 'ServiceCIDR'],
  'certificates.k8s.io': ['CertificateSigningRequest', 'ClusterTrustBundle'],
  'flowcontrol.apiserver.k8s.io': ['FlowSchema', 'PriorityLevelConfiguration'],
  'resource.k8s.io': ['DeviceClass', 'ResourceSlice'],
  policy: ['PodSecurityPolicy'],
  'authentication.k8s.io': ['TokenReview', 'SelfSubjectReview'],
  'authorization.k8s.io': ['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview'],
};

function toTable(entries: Record<string, string[]>, namespaced: boolean): [string, boolean][] {
  return Object.entries(entries).flatMap(([group, kinds]) =>
    kinds.map((k): [string, boolean] => [`${group}/${k}`, namespaced]),
  );
}

const BUILTIN_SCOPE = new Map<string, boolean>([
  ...toTable(NAMESPACED, true),
  ...toTable(CLUSTER_SCOPED, false),
]);

/**
 * Scope of Kubernetes' built-in kinds (by group and kind; the version does not change scope).
 * Anything else, including Gateway API and other CRDs, is `undefined`: combine with the cluster's
 * discovery (scopeFromList + combineScopes) to know those.
 */
export const builtinScope: ScopeResolver = (apiVersion, kind) =>
  BUILTIN_SCOPE.get(`${apiGroup(apiVersion)}/${kind}`);

/** A resolver from a list such as the cluster's discovery answers; the version is ignored, as for builtinScope. */
export function scopeFromList(
  entries: { group: string; kind: string; namespaced: boolean }[],
): ScopeResolver {
  const table = new Map(entries.map((e) => [`${e.group}/${e.kind}`, e.namespaced]));
  return (apiVersion, kind) => table.get(`${apiGroup(apiVersion)}/${kind}`);
}

/** The first resolver that knows the kind answers. */
export function combineScopes(...resolvers: ScopeResolver[]): ScopeResolver {
  return (apiVersion, kind) => {
    for (const r of resolvers) {
      const answer = r(apiVersion, kind);
      if (answer !== undefined) return answer;
    }
    return undefined;
  };
}

export { isClusterAdminBinding } from './rbac.js';

/** The reasons one object may not be part of the preview in `namespace`; empty when it may. */
export function violationsOf(
  o: KubeObject,
  namespace: string,
  scope: ScopeResolver,
  allow: Allowance = NOTHING_ALLOWED,
): string[] {
  const reasons: string[] = [];
  const namespaced = scope(o.apiVersion, o.kind);
  if (namespaced === undefined) {
    reasons.push(
      `kind ${o.kind} (apiVersion ${o.apiVersion}) is not known to the cluster — is its CRD installed? ` +
        'CRDs are cluster-wide and must be installed by a cluster admin, not by a preview; check the apiVersion spelling too',
    );
  } else if (!namespaced) {
    reasons.push(
      o.kind === 'Namespace' && apiGroup(o.apiVersion) === ''
        ? 'is a Namespace (kustomize renames every Namespace object to the preview namespace, so in your files it has another name): kubestage creates and owns the preview namespace itself; remove the Namespace object from the manifests the preview renders'
        : `is cluster-scoped (${o.kind} is not namespaced); a preview may only create objects inside its own namespace — install it once per cluster instead`,
    );
  } else if (o.metadata.namespace === undefined || o.metadata.namespace === '') {
    reasons.push(`has no metadata.namespace; it must be in the preview namespace "${namespace}"`);
  } else if (o.metadata.namespace !== namespace) {
    reasons.push(
      `is in namespace "${o.metadata.namespace}", not the preview namespace "${namespace}" — remove the explicit namespace ` +
        '(kustomize sets it) or exclude the object from the preview overlay',
    );
  }
  reasons.push(...bindingViolations(o, namespace, allow));
  return reasons;
}

export interface GuardOptions {
  podSecurity?: PodSecurityLevel;
  /** What the team lets through (the `allow` input); nothing by default. */
  allow?: Allowance;
  /** The preview's host ('' or absent: it has none), which Gateway listeners may claim. */
  host?: string;
  /** Every host the preview answers at (rewriteHosts' routes); Gateway listeners may claim these. */
  hosts?: readonly string[];
}

/**
 * Refuses, before anything is sent to the cluster, a rendered preview that would reach outside its namespace:
 * - kinds the cluster does not know (a missing CRD), and cluster-scoped kinds (Namespace, ClusterRole, CRDs, …);
 * - objects in any namespace other than `namespace`, or with none;
 * - bindings to a ClusterRole (cluster-admin and admin always; others unless `allow` names them), and binding
 *   subjects other than the preview's own ServiceAccounts (Users and Groups unless allowed; system:* never);
 * - traffic that escapes the preview (traffic.ts): NodePort, LoadBalancer, externalIPs, ExternalName, hand-written
 *   Endpoints, catch-all Ingresses, snippet annotations, auth URLs into the cluster, foreign Gateway listeners —
 *   each unless `allow` names its class;
 * - pods that break the Pod Security level (pod-security.ts).
 * Throws GuardError listing EVERY violation, one per line.
 */
export function guardManifests(
  objects: KubeObject[],
  namespace: string,
  scope: ScopeResolver,
  opts: GuardOptions = {},
): void {
  const violations: GuardViolation[] = objects.flatMap((o) =>
    [
      ...violationsOf(o, namespace, scope, opts.allow),
      ...trafficViolations(o, {
        namespace,
        host: opts.host ?? '',
        hosts: opts.hosts,
        allow: opts.allow ?? NOTHING_ALLOWED,
      }),
      ...podSecurityViolations(o, opts.podSecurity ?? 'privileged'),
      ...networkPolicyViolations(o, opts.allow ?? NOTHING_ALLOWED),
    ].map((reason) => ({ object: objectRef(o), reason })),
  );
  if (violations.length === 0) return;
  const podSecurity = violations.some((v) => v.reason.includes('Pod Security level'))
    ? ` Pods may not reach the node at the "${opts.podSecurity}" Pod Security level: drop host access and privileges from the preview overlay, ` +
      'or set the pod-security input to "privileged" if previews of this repository truly need them.'
    : '';
  const count = new Set(violations.map((v) => v.object)).size;
  throw new GuardError(
    `Refusing to deploy the preview to namespace "${namespace}": ${count} object${count === 1 ? '' : 's'} would reach outside it ` +
      '(nothing was sent to the cluster):\n' +
      violations.map((v) => `  - ${v.object}: ${v.reason}`).join('\n') +
      `\nA preview may contain only namespaced objects of kinds the cluster knows, all in "${namespace}", ` +
      'no binding that grants outside identities or a ClusterRole the team did not allow, and no traffic that escapes the ' +
      'preview unless the `allow` input names it. To fix: point the "manifests" input at an overlay without these objects ' +
      '(e.g. a preview overlay that lists only your app), and install cluster-wide pieces (CRDs, ClusterRoles, ' +
      'namespaces) once per cluster outside the preview.' +
      podSecurity,
    violations,
  );
}
