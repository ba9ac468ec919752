// What a team may let its previews do that the guard refuses by default: the `allow` input, one class a line
// (or comma-separated). Each class names one way out of the preview that a repository may truly need;
// cluster-admin, admin, system groups and other namespaces' ServiceAccounts are never allowed.

/** The classes the `allow` input takes, with what each lets through (for messages and the README). */
export const ALLOW_CLASSES = {
  'node-port': 'Services of type NodePort',
  'load-balancer': 'Services of type LoadBalancer',
  'external-ips': 'Services with spec.externalIPs',
  'external-name': 'Services of type ExternalName',
  endpoints: 'hand-written Endpoints and EndpointSlices',
  'catch-all-ingress': 'Ingresses with only a default backend',
  'snippet-annotations': 'ingress-nginx *-snippet annotations',
  'internal-urls': 'ingress-nginx auth-url and mirror-target annotations pointing inside the cluster',
  'gateway-listeners': 'Gateway listeners (and TLS/TCP/UDP routes) not limited to the preview host',
  'users-and-groups': 'RoleBinding subjects that are Users or Groups (never system:*)',
  'network-policies': 'NetworkPolicies that admit traffic from or to other namespaces, addresses or anywhere',
} as const;
export type AllowClass = keyof typeof ALLOW_CLASSES;

/** `cluster-role:<name>`: RoleBindings to that ClusterRole (never cluster-admin or admin). */
export const CLUSTER_ROLE_PREFIX = 'cluster-role:';
/** ClusterRoles no `allow` value lets a preview bind. */
export const NEVER_BOUND = new Set(['cluster-admin', 'admin']);

export interface Allowance {
  classes: ReadonlySet<AllowClass>;
  clusterRoles: ReadonlySet<string>;
}

export const NOTHING_ALLOWED: Allowance = { classes: new Set(), clusterRoles: new Set() };

export function isAllowClass(v: string): v is AllowClass {
  return Object.hasOwn(ALLOW_CLASSES, v);
}

/** The valid values, for messages. */
export function allowValues(): string {
  return [...Object.keys(ALLOW_CLASSES), `${CLUSTER_ROLE_PREFIX}<name>`].join(', ');
}

/** Parses the `allow` input; throws with the bad value and the valid ones. */
export function parseAllow(text: string): Allowance {
  const classes = new Set<AllowClass>();
  const clusterRoles = new Set<string>();
  for (const raw of text.split(/[\n,]/)) {
    const v = raw.trim();
    if (v === '' || v.startsWith('#')) continue;
    if (v.toLowerCase().startsWith(CLUSTER_ROLE_PREFIX)) {
      const name = v.slice(CLUSTER_ROLE_PREFIX.length).trim();
      if (name === '')
        throw new Error(`"${v}" names no ClusterRole; write e.g. "${CLUSTER_ROLE_PREFIX}view"`);
      if (NEVER_BOUND.has(name))
        throw new Error(
          `"${v}" cannot be allowed: a preview may never bind ${[...NEVER_BOUND].join(' or ')} (they can grant anything in the namespace to anyone); bind a Role with the permissions the app needs`,
        );
      clusterRoles.add(name);
    } else if (isAllowClass(v.toLowerCase())) {
      classes.add(v.toLowerCase() as AllowClass);
    } else {
      throw new Error(`"${v}" is not something a preview can be allowed; valid values: ${allowValues()}`);
    }
  }
  return { classes, clusterRoles };
}

/** The fix clause for a refusal a team can lift: "or allow it with `allow: <value>`". */
export function allowHint(value: string): string {
  return `; or allow it with \`allow: ${value}\``;
}
