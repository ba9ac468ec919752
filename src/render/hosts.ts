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
  // Which preview hosts the app's own routes will ask each of its Gateways for.
  const wanted = new Map<string, string[]>();
  for (const o of objects) {
    if (apiGroup(o.apiVersion) !== GATEWAY_GROUP || !ROUTE_KINDS.has(o.kind)) continue;
    const names = (Array.isArray(specOf(o).hostnames) ? (specOf(o).hostnames as unknown[]) : []).map(String);
    const hosts = names.length ? names.map((h) => mapping.get(h) ?? host) : [host];
    for (const key of parentGateways(o)) wanted.set(key, [...(wanted.get(key) ?? []), ...hosts]);
  }
  const out = objects.map((o) => {
    const group = apiGroup(o.apiVersion);
    let result: { object: KubeObject; from: string[]; to: string[] } | undefined;
    if (group === 'networking.k8s.io' && o.kind === 'Ingress')
      result = rewriteIngress(o, route, mapping, host);
    else if (group === GATEWAY_GROUP && ROUTE_KINDS.has(o.kind)) result = rewriteRoute(o, route);
    else if (group === GATEWAY_GROUP && o.kind === 'Gateway')
      result = rewriteGateway(o, mapping, host, wanted.get(gatewayKey(o)) ?? []);
    if (result === undefined) return o;
    if (result.from.join() !== result.to.join()) {
      changes.push({ object: objectRef(o), from: result.from, to: result.to });
    }
    return result.object;
  });
  // A route attached to a Gateway of the app answers only at hosts that Gateway listens for, and
  // over HTTPS only where one of its listeners for the host is HTTPS.
  const listening = gatewayListeners(out);
  const attached: PreviewRoute[] = [];
  for (const r of routes.values()) {
    const ways = [...(servedBy.get(r.host) ?? [])].map((o) => reach(o, r.host, listening));
    if (!ways.some((w) => w.routes)) continue;
    const own = ways.filter((w) => w.routes && w.tls !== undefined);
    attached.push(
      own.length === ways.filter((w) => w.routes).length && own.length
        ? { ...r, tls: own.some((w) => w.tls) }
        : r,
    );
  }
  return { objects: out, changes, routes: attached };
}

function gatewayKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The Gateways a route names (`namespace/name`; the route's namespace when none is given). */
function parentGateways(o: KubeObject): string[] {
  return arrayOf(specOf(o).parentRefs)
    .filter((p) => (str(p.kind) || 'Gateway') === 'Gateway')
    .map((p) => `${str(p.namespace) || (o.metadata.namespace ?? '')}/${str(p.name)}`);
}

/** `namespace/name` of each Gateway in the render → its listeners' hostnames and protocols. */
function gatewayListeners(objects: KubeObject[]): Map<string, { hostname: string; protocol: string }[]> {
  const out = new Map<string, { hostname: string; protocol: string }[]>();
  for (const o of objects) {
    if (apiGroup(o.apiVersion) !== GATEWAY_GROUP || o.kind !== 'Gateway') continue;
    out.set(
      gatewayKey(o),
      arrayOf(specOf(o).listeners).map((l) => ({
        hostname: str(l.hostname) || CATCH_ALL,
        protocol: str(l.protocol),
      })),
    );
  }
  return out;
}

/**
 * Whether `o` really routes `host`, and (for the app's own Gateways) whether over TLS: an Ingress
 * does (its TLS is known from it); a Gateway API route does unless every Gateway it names is one of
 * the app's own and none listens for the host (a Gateway outside the render, shared by the cluster,
 * is taken to accept the preview's hosts; whether it terminates TLS is not known: tls undefined).
 */
function reach(
  o: KubeObject,
  host: string,
  listening: Map<string, { hostname: string; protocol: string }[]>,
): { routes: boolean; tls?: boolean } {
  if (o.kind === 'Ingress') return { routes: true };
  const own = parentGateways(o).map((key) => listening.get(key));
  if (own.length === 0 || own.some((l) => l === undefined)) return { routes: true };
  const matching = own.flatMap((l) => l!.filter((x) => x.hostname === host || x.hostname === CATCH_ALL));
  return { routes: matching.length > 0, tls: matching.some((x) => /^(HTTPS|TLS)$/i.test(x.protocol)) };
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
  routed: readonly string[],
): { object: KubeObject; from: string[]; to: string[] } | undefined {
  const spec = specOf(o);
  const listeners = arrayOf(spec.listeners);
  if (listeners.length === 0) return undefined;
  const from = [...new Set(listeners.map((l) => str(l.hostname) || CATCH_ALL))];
  const names = new Set(listeners.map((l) => str(l.name)));
  const newListeners = listeners.flatMap((l): Json[] => {
    // TCP and UDP listeners cannot have a hostname (the guard refuses them unless a team allows them).
    if (/^(TCP|UDP)$/i.test(str(l.protocol))) return [structuredClone(l)];
    if (str(l.hostname)) return [{ ...structuredClone(l), hostname: mapping.get(str(l.hostname)) ?? host }];
    // A catch-all listener took every host the app's routes name: it becomes one listener per
    // preview host those routes now have (same port and protocol), so each route still attaches.
    const hosts = routed.length ? [...new Set(routed)] : [host];
    return hosts.map((h, i) => {
      let name = str(l.name);
      for (let n = i + 1; i > 0 && names.has(name); n++) name = `${str(l.name)}-${n}`;
      names.add(name);
      return { ...structuredClone(l), name, hostname: h };
    });
  });
  const to = [...new Set(newListeners.map((l) => str(l.hostname) || CATCH_ALL))];
  return {
    object: { ...structuredClone(o), spec: { ...structuredClone(spec), listeners: newListeners } },
    from,
    to,
  };
}
