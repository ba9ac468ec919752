// Points a preview's Ingresses and HTTPRoutes at the preview host.
import { apiGroup, objectRef, type KubeObject } from '../model/kube-object.js';

export interface HostChange {
  object: string;
  /** The hosts the object had, in order, without repeats; `*` stands for a rule with no host (a catch-all). */
  from: string[];
  to: string;
}

const CATCH_ALL = '*';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute']);

interface IngressRule {
  host?: string;
  [k: string]: unknown;
}
interface IngressTls {
  hosts?: string[];
  [k: string]: unknown;
}

/**
 * Host rewriting rule (README):
 *
 * - Ingress (`networking.k8s.io`): every `spec.rules[].host` becomes the preview host. A rule WITHOUT a host
 *   (a catch-all) gets the preview host too: in a shared cluster a catch-all from one preview would take
 *   traffic meant for others, and the preview must be reachable by its own name. Every `spec.tls[]` entry's
 *   `hosts` becomes `[host]` (the secret is kept: use a wildcard certificate for the preview domain).
 *   An Ingress with only a `defaultBackend` and no rules is left alone.
 * - HTTPRoute and GRPCRoute (`gateway.networking.k8s.io`, any version): `spec.hostnames` becomes `[host]`,
 *   also when it was absent (absent means "every host of the Gateway listener").
 * - Every other object is returned unchanged.
 *
 * Pure: the input objects are not modified; changed objects are copies. `changes` lists only objects
 * whose hosts actually changed.
 */
export function rewriteHosts(
  objects: KubeObject[],
  host: string,
): { objects: KubeObject[]; changes: HostChange[] } {
  const changes: HostChange[] = [];
  const out = objects.map((o) => {
    const group = apiGroup(o.apiVersion);
    let result: { object: KubeObject; from: string[] } | undefined;
    if (group === 'networking.k8s.io' && o.kind === 'Ingress') result = rewriteIngress(o, host);
    else if (group === GATEWAY_GROUP && ROUTE_KINDS.has(o.kind)) result = rewriteRoute(o, host);
    if (result === undefined) return o;
    if (!(result.from.length === 1 && result.from[0] === host)) {
      changes.push({ object: objectRef(o), from: result.from, to: host });
    }
    return result.object;
  });
  return { objects: out, changes };
}

function specOf(o: KubeObject): Record<string, unknown> {
  return typeof o.spec === 'object' && o.spec !== null ? (o.spec as Record<string, unknown>) : {};
}

function rewriteIngress(o: KubeObject, host: string): { object: KubeObject; from: string[] } | undefined {
  const spec = specOf(o);
  const rules = Array.isArray(spec.rules) ? (spec.rules as IngressRule[]) : [];
  const tls = Array.isArray(spec.tls) ? (spec.tls as IngressTls[]) : [];
  if (rules.length === 0 && tls.length === 0) return undefined;
  const from = [
    ...rules.map((r) => (typeof r?.host === 'string' && r.host !== '' ? r.host : CATCH_ALL)),
    ...tls.flatMap((t) => (Array.isArray(t?.hosts) ? t.hosts : [])),
  ];
  const newSpec: Record<string, unknown> = { ...spec };
  if (rules.length > 0) newSpec.rules = rules.map((r) => ({ ...structuredClone(r), host }));
  if (tls.length > 0) newSpec.tls = tls.map((t) => ({ ...structuredClone(t), hosts: [host] }));
  return { object: { ...structuredClone(o), spec: newSpec }, from: [...new Set(from)] };
}

function rewriteRoute(o: KubeObject, host: string): { object: KubeObject; from: string[] } {
  const spec = specOf(o);
  const hostnames = Array.isArray(spec.hostnames) ? (spec.hostnames as unknown[]).map(String) : [];
  const from = hostnames.length === 0 ? [CATCH_ALL] : [...new Set(hostnames)];
  return { object: { ...structuredClone(o), spec: { ...structuredClone(spec), hostnames: [host] } }, from };
}
