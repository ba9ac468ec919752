// Who a preview's bindings may grant rights to: only its own ServiceAccounts, and only through a Role it
// defines itself or a ClusterRole the team allowed. Anything else hands the preview's namespace (its
// Secrets, its pods' exec) to identities outside it, or a ClusterRole's rules to code from a pull request.
import { apiGroup, type KubeObject } from '../model/kube-object.js';
import { allowHint, CLUSTER_ROLE_PREFIX, NEVER_BOUND, type Allowance } from './allow.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

interface RoleRef {
  kind?: unknown;
  name?: unknown;
}
interface Subject {
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
}

export function isBinding(o: KubeObject): boolean {
  return (
    apiGroup(o.apiVersion) === RBAC_GROUP && (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
  );
}

/** A RoleBinding or ClusterRoleBinding whose roleRef is the ClusterRole `cluster-admin`. */
export function isClusterAdminBinding(o: KubeObject): boolean {
  const ref = o.roleRef as RoleRef | undefined;
  return isBinding(o) && ref?.kind === 'ClusterRole' && ref.name === 'cluster-admin';
}

/** Why a binding may not be part of the preview in `namespace`; empty for other objects and fine bindings. */
export function bindingViolations(o: KubeObject, namespace: string, allow: Allowance): string[] {
  if (!isBinding(o)) return [];
  const reasons: string[] = [];
  const ref = (o.roleRef ?? {}) as RoleRef;
  const role = typeof ref.name === 'string' ? ref.name : '?';
  if (ref.kind === 'ClusterRole') {
    if (isClusterAdminBinding(o)) {
      reasons.push(
        'binds the ClusterRole cluster-admin (roleRef.name "cluster-admin"); a preview may not grant cluster-admin — bind a Role with only the permissions the app needs',
      );
    } else if (NEVER_BOUND.has(role)) {
      reasons.push(
        `roleRef is ClusterRole "${role}": it lets its holders grant anything in the namespace to anyone, so a preview may never bind it — bind a Role with only the permissions the app needs`,
      );
    } else if (!allow.clusterRoles.has(role)) {
      reasons.push(
        `roleRef is ClusterRole "${role}": its rules are set by the cluster's admins, not reviewed with this repository (edit, for one, reads every Secret in the namespace) — ` +
          `define a Role in the preview and bind that${allowHint(`${CLUSTER_ROLE_PREFIX}${role}`)}`,
      );
    }
  }
  const subjects = Array.isArray(o.subjects) ? (o.subjects as Subject[]) : [];
  subjects.forEach((s, i) => {
    const reason = subjectViolation(s ?? {}, namespace, allow);
    if (reason) reasons.push(`subjects[${i}] ${reason}`);
  });
  return reasons;
}

function subjectViolation(s: Subject, namespace: string, allow: Allowance): string | undefined {
  const name = typeof s.name === 'string' ? s.name : '?';
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.namespace === undefined || s.namespace === '')
        return `is ServiceAccount "${name}" without a namespace; set it to "${namespace}"`;
      if (s.namespace !== namespace)
        return (
          `grants rights to ServiceAccount "${String(s.namespace)}/${name}" from another namespace; ` +
          `subjects must be ServiceAccounts in "${namespace}"`
        );
      return undefined;
    case 'User':
    case 'Group':
      if (name.startsWith('system:'))
        return (
          `is ${s.kind} "${name}": a Kubernetes system identity (all authenticated users, every ServiceAccount, anonymous, nodes …), ` +
          `so anyone on the cluster would get rights in the preview — bind only ServiceAccounts of "${namespace}"`
        );
      if (!allow.classes.has('users-and-groups'))
        return (
          `is ${s.kind} "${name}": grants rights in the preview to an identity outside it — bind only ServiceAccounts of "${namespace}"` +
          allowHint('users-and-groups')
        );
      return undefined;
    default:
      return `is of kind "${String(s.kind)}"; subjects must be ServiceAccounts in "${namespace}"`;
  }
}
