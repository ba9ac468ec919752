// Points a preview's Ingresses, Gateway API routes and Gateways at the preview's own host names, and
// says what, if anything, routes to the preview (so no URL is advertised that cannot answer).
import { apiGroup, objectRef, type KubeObject } from '../model/kube-object.js';
import { slugify } from '../model/templates.js';

export interface HostChange {
  object: string;
  /** The hosts the object had, in order, without repeats; `*` stands for a rule with no host (a catch-all). */
  from: string[];
  /** The preview hosts it has now. */
  to: string[];
}

/** One host the preview answers at, and how. */
export interface PreviewRoute {
  host: string;
  /** The host the manifests had ('*' for a rule without one). */
  original: string;
  /** TLS is configured for it (an Ingress `tls` entry or an HTTPS Gateway listener in the app). */
  tls: boolean;
  /** The object that routes it: `Ingress/web`, `HTTPRoute.gateway.networking.k8s.io/web`. */
  via: string;
  /** Where on the host something is routed: `/`, or the first path when nothing serves the root. */
  path: string;
}

export interface RewriteResult {
  objects: KubeObject[];
  changes: HostChange[];
  /** Every distinct preview host, the primary (first) one first; empty when nothing routes here. */
  routes: PreviewRoute[];
}

/** Two original hosts would get the same preview host. */
export class HostCollisionError extends Error {}

const CATCH_ALL = '*';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute']);

type Json = Record<string, unknown>;

/**
 * Host rewriting rule (README):
 *
 * - Each distinct host the manifests name gets its own preview host: the first keeps `host`
 *   (`pr-7.preview.example.com`), each further one `<its first label>-<host>`
 *   (`api-pr-7.preview.example.com`), so an app with several hosts keeps them apart and two rules
 *   never collide on one host. A rule, route or listener with NO host (a catch-all) gets `host`: in a
 *   shared cluster a catch-all would take traffic meant for others.
 * - Ingress (`networking.k8s.io`): `spec.rules[].host` and `spec.tls[].hosts` are mapped (the TLS secret
 *   is kept: use a wildcard certificate for the preview domain). An Ingress with only a `defaultBackend`
 *   routes nothing of its own and is left for the guard to judge.
 * - HTTPRoute and GRPCRoute (`gateway.networking.k8s.io`): `spec.hostnames` mapped, `[host]` when absent.
 * - Gateway: every listener's `hostname` mapped (`host` when absent), so the app's own routes still
 *   attach to its own Gateway.
 *
 * Pure: the input objects are not modified. Throws HostCollisionError when two original hosts would
 * get the same preview host (their first labels are equal), naming both.
 */
export function rewriteHosts(objects: KubeObject[], host: string): RewriteResult {
  const mapping = hostMapping(objects, host);
  const changes: HostChange[] = [];
  const routes = new Map<string, PreviewRoute>();
  /** What serves each preview host: kept only while something can really route it (see attached). */
  const servedBy = new Map<string, Set<KubeObject>>();
  const route: Route = (original, tls, o, paths) => {
    const to = mapping.get(original) ?? host;
    const path = paths.includes('/') || paths.length === 0 ? '/' : (paths[0] as string);
    const known = routes.get(to);
    if (known) {
      known.tls ||= tls;
      if (path === '/') known.path = '/';
    } else routes.set(to, { host: to, original, tls, via: objectRef(o), path });
    servedBy.set(to, (servedBy.get(to) ?? new Set()).add(o));
    return to;
  };
  const out = objects.map((o) => {
    const group = apiGroup(o.apiVersion);
    let result: { object: KubeObject; from: string[]; to: string[] } | undefined;
    if (group === 'networking.k8s.io' && o.kind === 'Ingress')
      result = rewriteIngress(o, route, mapping, host);
    else if (group === GATEWAY_GROUP && ROUTE_KINDS.has(o.kind)) result = rewriteRoute(o, route);
    else if (group === GATEWAY_GROUP && o.kind === 'Gateway') result = rewriteGateway(o, mapping, host);
    if (result === undefined) return o;
    if (result.from.join() !== result.to.join()) {
      changes.push({ object: objectRef(o), from: result.from, to: result.to });
    }
    return result.object;
  });
  // A route attached to a Gateway of the app answers only at hosts that Gateway listens for.
  const listening = gatewayHosts(out);
  const attached = [...routes.values()].filter((r) =>
    [...(servedBy.get(r.host) ?? [])].some((o) => routesTo(o, r.host, listening)),
  );
  return { objects: out, changes, routes: attached };
}

/** `namespace/name` of each Gateway in the render → the hostnames its listeners accept. */
function gatewayHosts(objects: KubeObject[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of objects) {
    if (apiGroup(o.apiVersion) !== GATEWAY_GROUP || o.kind !== 'Gateway') continue;
    const hosts = new Set(arrayOf(specOf(o).listeners).map((l) => str(l.hostname) || CATCH_ALL));
    out.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, hosts);
  }
  return out;
}

/**
 * Whether `o` really routes `host`: an Ingress does; a Gateway API route does unless every Gateway
 * it names is one of the app's own and none of those listens for the host (a Gateway outside the
 * render, shared by the cluster, is taken to accept the preview's hosts).
 */
function routesTo(o: KubeObject, host: string, listening: Map<string, Set<string>>): boolean {
  if (o.kind === 'Ingress') return true;
  const parents = arrayOf(specOf(o).parentRefs).filter((p) => (str(p.kind) || 'Gateway') === 'Gateway');
  const own = parents.map((p) =>
    listening.get(`${str(p.namespace) || (o.metadata.namespace ?? '')}/${str(p.name)}`),
  );
  if (own.length === 0 || own.some((l) => l === undefined)) return true;
  return own.some((l) => l!.has(host) || l!.has(CATCH_ALL));
}

/** original host → preview host, for every named host in the render (first seen first). */
function hostMapping(objects: KubeObject[], host: string): Map<string, string> {
  const originals: string[] = [];
  for (const o of objects) {
    const group = apiGroup(o.apiVersion);
    const spec = specOf(o);
    if (group === 'networking.k8s.io' && o.kind === 'Ingress') {
      for (const r of arrayOf(spec.rules)) originals.push(str(r.host));
      for (const t of arrayOf(spec.tls))
        for (const h of Array.isArray(t.hosts) ? t.hosts : []) originals.push(String(h));
    } else if (group === GATEWAY_GROUP && ROUTE_KINDS.has(o.kind)) {
      for (const h of Array.isArray(spec.hostnames) ? spec.hostnames : []) originals.push(String(h));
    } else if (group === GATEWAY_GROUP && o.kind === 'Gateway') {
      for (const l of arrayOf(spec.listeners)) originals.push(str(l.hostname));
    }
  }
  const distinct = [...new Set(originals.filter((h) => h !== '' && h !== CATCH_ALL))];
  const mapping = new Map<string, string>();
  const taken = new Map<string, string>(); // preview host → the original that has it
  const dot = host.indexOf('.');
  distinct.forEach((original, i) => {
    // A wildcard host (`*.shop.example.com`) is named by the label after the `*`.
    const label = slugify(original.replace(/^\*\./, '').split('.')[0] ?? '');
    const preview =
      i === 0 || !label
        ? host
        : dot < 0
          ? `${label}-${host}`
          : `${label}-${host.slice(0, dot)}${host.slice(dot)}`;
    const other = taken.get(preview);
    if (other !== undefined && i > 0) {
      throw new HostCollisionError(
        `The manifests route both "${other}" and "${original}"; in the preview both would become ${preview}, and their rules would collide. ` +
          'Give the hosts distinct first labels, or split them into separate apps (the `app` input).',
      );
    }
    taken.set(preview, original);
    mapping.set(original, preview);
  });
  return mapping;
}

function specOf(o: KubeObject): Json {
  return typeof o.spec === 'object' && o.spec !== null ? (o.spec as Json) : {};
}

function arrayOf(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : [];
}

function obj(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Registers a routed host (original → preview host) with its TLS and paths; returns the preview host. */
type Route = (original: string, tls: boolean, o: KubeObject, paths: string[]) => string;

function rewriteIngress(
  o: KubeObject,
  route: Route,
  mapping: Map<string, string>,
  host: string,
): { object: KubeObject; from: string[]; to: string[] } | undefined {
  const spec = specOf(o);
  const rules = arrayOf(spec.rules);
  const tls = arrayOf(spec.tls);
  if (rules.length === 0 && tls.length === 0) return undefined;
  const tlsHosts = new Set(tls.flatMap((t) => (Array.isArray(t.hosts) ? t.hosts.map(String) : [])));
  const from = [...rules.map((r) => str(r.host) || CATCH_ALL), ...tlsHosts];
  const newSpec: Json = { ...spec };
  if (rules.length > 0)
    newSpec.rules = rules.map((r) => {
      const paths = arrayOf(obj(r.http).paths).map((p) => str(p.path) || '/');
      return {
        ...structuredClone(r),
        host: route(str(r.host) || CATCH_ALL, tlsHosts.has(str(r.host)), o, paths),
      };
    });
  // TLS names only what certificate to present: it maps hosts, it routes none by itself.
  if (tls.length > 0) {
    newSpec.tls = tls.map((t) => ({
      ...structuredClone(t),
      hosts: [
        ...new Set(
          (Array.isArray(t.hosts) && t.hosts.length ? t.hosts.map(String) : ['']).map(
            (h) => mapping.get(h) ?? host,
          ),
        ),
      ],
    }));
  }
  const to = [
    ...new Set([
      ...((newSpec.rules as Json[] | undefined) ?? []).map((r) => str(r.host)),
      ...((newSpec.tls as Json[] | undefined) ?? []).flatMap((t) => t.hosts as string[]),
    ]),
  ];
  return { object: { ...structuredClone(o), spec: newSpec }, from: [...new Set(from)], to };
}

function rewriteRoute(o: KubeObject, route: Route): { object: KubeObject; from: string[]; to: string[] } {
  const spec = specOf(o);
  const hostnames = Array.isArray(spec.hostnames) ? (spec.hostnames as unknown[]).map(String) : [];
  const from = hostnames.length === 0 ? [CATCH_ALL] : [...new Set(hostnames)];
  // Whether the shared Gateway terminates TLS is not in the render: routes count as HTTPS, the way
  // Gateways in front of previews are set up.
  const paths = arrayOf(spec.rules).flatMap((r) =>
    arrayOf(r.matches).map((m) => str(obj(m.path).value) || '/'),
  );
  const to = [...new Set(from.map((h) => route(h, true, o, paths)))];
  return { object: { ...structuredClone(o), spec: { ...structuredClone(spec), hostnames: to } }, from, to };
}

function rewriteGateway(
  o: KubeObject,
  mapping: Map<string, string>,
  host: string,
): { object: KubeObject; from: string[]; to: string[] } | undefined {
  const spec = specOf(o);
  const listeners = arrayOf(spec.listeners);
  if (listeners.length === 0) return undefined;
  const from = [...new Set(listeners.map((l) => str(l.hostname) || CATCH_ALL))];
  const newListeners = listeners.map((l) => ({
    ...structuredClone(l),
    hostname: mapping.get(str(l.hostname)) ?? host,
  }));
  const to = [...new Set(newListeners.map((l) => str(l.hostname) || CATCH_ALL))];
  return {
    object: { ...structuredClone(o), spec: { ...structuredClone(spec), listeners: newListeners } },
    from,
    to,
  };
}
