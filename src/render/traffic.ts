// Traffic that would escape the preview: ways for a preview to take traffic meant for others (node ports,
// load balancers, catch-all Ingresses, foreign Gateway listeners), to send its own or its callers' traffic
// anywhere (ExternalName, hand-written Endpoints pointing at the API server or the metadata service), or to
// run configuration inside the shared ingress controller (snippets, auth URLs into the cluster).
import { apiGroup, type KubeObject } from '../model/kube-object.js';
import { allowHint, type Allowance, type AllowClass } from './allow.js';

export interface TrafficContext {
  namespace: string;
  /** The preview's host; '' when it has none. */
  host: string;
  /** Every host the preview answers at (its host and, for an app with several, `<label>-<host>`). */
  hosts?: readonly string[];
  allow: Allowance;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** ingress-nginx (and NGINX Inc.) annotations that inject raw NGINX configuration. */
export function isSnippetAnnotation(key: string): boolean {
  return /^nginx\.ingress\.kubernetes\.io\/.*snippets?$/.test(key) || /^nginx\.org\/.*snippets?$/.test(key);
}

/** ingress-nginx annotations that make the shared controller send requests to a URL. */
const URL_ANNOTATIONS = ['nginx.ingress.kubernetes.io/auth-url', 'nginx.ingress.kubernetes.io/mirror-target'];

/**
 * Whether a URL the ingress controller would call points inside the cluster or the node's network: an IP
 * address, localhost, a single-label name, `*.local`, `*.internal`, or a Service name (`*.svc…`) in another
 * namespace than the preview's. Unparseable URLs count as internal.
 */
export function isInternalUrl(value: string, namespace: string): boolean {
  let host: string;
  try {
    // NGINX variables ($host, $request_uri) stand for anything: one in the host leaves no host.
    host = new URL(value.replace(/\$[a-z_]+/gi, '/')).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return true;
  }
  if (host === '' || host === 'localhost' || !host.includes('.')) return true;
  if (/^[\d.]+$/.test(host) || host.startsWith('[')) return true;
  // Two labels resolve through the cluster's DNS search path as <service>.<namespace> first
  // (`kubernetes.default`, `vault.vault`): internal unless it is the preview's own namespace.
  const labels = host.split('.');
  if (labels.length === 2) return labels[1] !== namespace;
  const svc = /^[^.]+\.([^.]+)\.svc(\.cluster\.local)?$/.exec(host);
  if (svc) return svc[1] !== namespace;
  return /\.(local|internal|localhost)$/.test(host) || /(^|\.)svc(\.|$)/.test(host);
}

/** Why this object would let traffic escape the preview; empty when it does not (or the team allowed it). */
export function trafficViolations(o: KubeObject, ctx: TrafficContext): string[] {
  const out: string[] = [];
  const refuse = (cls: AllowClass, reason: string): void => {
    if (!ctx.allow.classes.has(cls)) out.push(reason + allowHint(cls));
  };
  const group = apiGroup(o.apiVersion);
  const spec = obj(o.spec);
  if (group === '' && o.kind === 'Service') service(spec, refuse);
  else if (
    (group === '' && o.kind === 'Endpoints') ||
    (group === 'discovery.k8s.io' && o.kind === 'EndpointSlice')
  )
    endpoints(o, refuse);
  else if ((group === 'networking.k8s.io' || group === 'extensions') && o.kind === 'Ingress')
    ingress(o, spec, ctx, refuse);
  else if (group === GATEWAY_GROUP) gateway(o, spec, ctx, refuse);
  return out;
}

type Refuse = (cls: AllowClass, reason: string) => void;

function service(spec: Json, refuse: Refuse): void {
  const behindIngress =
    'use a ClusterIP Service (the default) and reach it through the Ingress at the preview host';
  switch (spec.type) {
    case 'NodePort':
      refuse(
        'node-port',
        `spec.type is "NodePort": opens the Service on a port of every node, reachable past the preview's host and its ingress — ${behindIngress}`,
      );
      break;
    case 'LoadBalancer':
      refuse(
        'load-balancer',
        `spec.type is "LoadBalancer": gives the preview an external address of its own (a cloud load balancer per pull request), past the preview's host — ${behindIngress}`,
      );
      break;
    case 'ExternalName':
      refuse(
        'external-name',
        `spec.type is "ExternalName" (spec.externalName "${str(spec.externalName)}"): makes a name in the preview an alias for any host, inside the cluster or out, that the ingress controller and other clients then follow — have the app call that host itself`,
      );
      break;
  }
  const ips = list(spec.externalIPs);
  if (ips.length)
    refuse(
      'external-ips',
      `spec.externalIPs is "${ips.map(str).join(', ')}": takes the traffic for those addresses on every node, whoever else they belong to — remove it and reach the Service through the Ingress`,
    );
}

function endpoints(o: KubeObject, refuse: Refuse): void {
  const slice = o.kind === 'EndpointSlice';
  const addresses = slice
    ? list(o.endpoints).flatMap((e) => list(obj(e).addresses).map(str))
    : list(o.subsets).flatMap((s) => list(obj(s).addresses).map((a) => str(obj(a).ip)));
  refuse(
    'endpoints',
    `${slice ? 'endpoints[].addresses' : 'subsets[].addresses'} is "${addresses.join(', ') || '(none)'}": a hand-written ${o.kind} sends a Service's traffic wherever it says — the API server, the cloud metadata service, another namespace's pods — ` +
      'give the Service a selector and let Kubernetes keep its endpoints',
  );
}

function ingress(o: KubeObject, spec: Json, ctx: TrafficContext, refuse: Refuse): void {
  const backend = spec.defaultBackend ?? spec.backend;
  if (backend !== undefined && list(spec.rules).length === 0) {
    const service = obj(obj(backend).service);
    refuse(
      'catch-all-ingress',
      `spec.defaultBackend is "${str(service.name ?? obj(backend).resource)}" with no spec.rules: a catch-all that takes every request the ingress controller gets for a host no other Ingress claims — ` +
        'write a rule with a path instead (kubestage points its host at the preview)',
    );
  }
  const annotations = obj(o.metadata.annotations);
  for (const [key, value] of Object.entries(annotations)) {
    if (isSnippetAnnotation(key)) {
      refuse(
        'snippet-annotations',
        `metadata.annotations["${key}"] is set: raw NGINX configuration would run inside the shared ingress controller, which holds every TLS Secret and routes every host of the cluster — ` +
          'express it with the Ingress spec or ordinary annotations',
      );
    } else if (URL_ANNOTATIONS.includes(key) && isInternalUrl(str(value), ctx.namespace)) {
      refuse(
        'internal-urls',
        `metadata.annotations["${key}"] is "${str(value)}": the shared ingress controller would send requests to an address inside the cluster or the node's network, outside the preview — ` +
          `point it at a Service of the preview ("http://<service>.${ctx.namespace}.svc…") or a public URL`,
      );
    }
  }
}

function gateway(o: KubeObject, spec: Json, ctx: TrafficContext, refuse: Refuse): void {
  const claim = ctx.host
    ? `claim only the preview host "${ctx.host}"`
    : 'a preview without a host (the `domain` input is empty) may claim none';
  const ours = new Set([ctx.host, ...(ctx.hosts ?? [])].filter((h) => h !== ''));
  if (o.kind === 'Gateway') {
    const addresses = list(spec.addresses).map((a) => str(obj(a).value));
    if (addresses.length)
      refuse(
        'gateway-listeners',
        `spec.addresses is "${addresses.join(', ')}": the Gateway would claim addresses of its own, outside the preview's host — leave addresses out`,
      );
    list(spec.listeners).forEach((l, i) => {
      const listener = obj(l);
      const name = str(listener.name);
      const protocol = str(listener.protocol).toUpperCase();
      if (protocol === 'TCP' || protocol === 'UDP') {
        refuse(
          'gateway-listeners',
          `spec.listeners[${i}] ("${name}") has protocol ${protocol} on port ${String(listener.port)}: it takes a whole port of the Gateway's address, whoever else uses it — serve the preview over HTTP(S) at its host`,
        );
      } else if (typeof listener.hostname !== 'string' || listener.hostname === '') {
        refuse(
          'gateway-listeners',
          `spec.listeners[${i}] ("${name}") has no hostname: it would take every host that reaches the Gateway's address — set its hostname to ${ctx.host ? `"${ctx.host}"` : 'the preview host'}; listeners may ${claim}`,
        );
      } else if (!ours.has(listener.hostname)) {
        refuse(
          'gateway-listeners',
          `spec.listeners[${i}].hostname is "${listener.hostname}": traffic for a host that is not the preview's would come to it — listeners may ${claim}`,
        );
      }
    });
  } else if (o.kind === 'TLSRoute') {
    const hostnames = list(spec.hostnames).map(str);
    if (hostnames.length === 0 || hostnames.some((h) => !ours.has(h)))
      refuse(
        'gateway-listeners',
        `spec.hostnames is "${hostnames.join(', ') || '(none: every host)'}": a TLSRoute may ${claim}`,
      );
  } else if (o.kind === 'TCPRoute' || o.kind === 'UDPRoute') {
    refuse(
      'gateway-listeners',
      `spec.parentRefs is "${list(spec.parentRefs)
        .map((p) => str(obj(p).name))
        .join(
          ', ',
        )}": a ${o.kind} has no hostnames and takes a whole port of the Gateway it attaches to, whoever else uses it — serve the preview over HTTP(S) at its host`,
    );
  }
}
