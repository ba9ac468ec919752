// What the kubeconfig identity must be allowed to do, in one place: quoted by the README and by
// every message that turns a 403 into advice.

/** The RBAC permissions kubestage needs, as plain text (one line per scope). */
export const REQUIRED_PERMISSIONS =
  'Cluster scope (ClusterRole): namespaces: get, list, watch, create, patch, delete ' +
  '(list and watch are optional: without them kubestage polls the one namespace it waits for).\n' +
  'In each preview namespace (a ClusterRole bound there, or the built-in "admin"/"edit"): ' +
  'get, list, create, patch, delete on every kind in your manifests; ' +
  'get, list, watch on pods, pods/log, events and replicasets (apps).';

/** A 403's advice: what the action needed, then the full list. */
export function permissionHint(needed: string): string {
  return `the kubeconfig identity needs ${needed}. kubestage needs, in full:\n${REQUIRED_PERMISSIONS}`;
}
