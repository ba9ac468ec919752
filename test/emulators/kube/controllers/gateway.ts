// A Gateway API controller, as Envoy Gateway, Istio or Cilium run one: a Gateway whose GatewayClass
// exists is Accepted and Programmed; a route is Accepted by each of its Gateways that is programmed
// and has a listener for its hostnames, and refused (NoMatchingListenerHostname) by one that has
// none. A Gateway whose class no controller owns gets no status at all, as on a real cluster.
// Only when the Gateway API CRDs are installed: a cluster without them has none of these kinds.
import type { KObject, ResourceType, Store, StoreEvent } from '../store.js';

const GROUP = 'gateway.networking.k8s.io';
const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'];
const CONTROLLER = 'example.net/gateway-controller';

type Json = Record<string, unknown>;
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

export function registerGateways(store: Store): () => void {
  const type = (kind: string): ResourceType | undefined =>
    store.findTypeByKind(`${GROUP}/v1`, kind) ?? store.findTypeByKind(`${GROUP}/v1beta1`, kind);
  const setStatus = (t: ResourceType, o: KObject, status: Json): void => {
    if (JSON.stringify(o.status ?? {}) === JSON.stringify(status)) return;
    store.update(t, { ...o, status });
  };
  const programmed = (gw: KObject): boolean =>
    list((gw.status as Json | undefined)?.conditions).some(
      (c) => c.type === 'Programmed' && c.status === 'True',
    );

  const syncGateway = (gw: KObject): void => {
    const t = type('Gateway');
    const classes = type('GatewayClass');
    const className = String((gw.spec as Json | undefined)?.gatewayClassName ?? '');
    if (!t || !classes || !store.get(classes, undefined, className)) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type_: string) => ({
      type: type_,
      status: 'True',
      reason: type_,
      message: `Gateway ${type_.toLowerCase()} by ${CONTROLLER}`,
      lastTransitionTime: now,
      observedGeneration: gw.metadata.generation ?? 1,
    });
    setStatus(t, gw, { conditions: [condition('Accepted'), condition('Programmed')] });
  };

  const syncRoute = (t: ResourceType, route: KObject): void => {
    const gateways = type('Gateway');
    if (!gateways) return;
    const spec = (route.spec ?? {}) as Json;
    const hostnames = list(spec.hostnames).map(String);
    const parents: Json[] = [];
    for (const ref of list(spec.parentRefs)) {
      const ns = String(ref.namespace ?? route.metadata.namespace ?? '');
      const gw = store.get(gateways, ns, String(ref.name ?? ''));
      if (!gw || !programmed(gw)) continue;
      const listeners = list((gw.spec as Json | undefined)?.listeners).map((l) => String(l.hostname ?? ''));
      const matches =
        hostnames.length === 0 || listeners.some((l) => l === '' || hostnames.some((h) => hostMatches(l, h)));
      parents.push({
        parentRef: { group: GROUP, kind: 'Gateway', name: ref.name, namespace: ns },
        controllerName: CONTROLLER,
        conditions: [
          matches
            ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Route is accepted' }
            : {
                type: 'Accepted',
                status: 'False',
                reason: 'NoMatchingListenerHostname',
                message: `no listener of Gateway ${ns}/${String(ref.name)} matches the route's hostnames ${hostnames.join(', ')}`,
              },
        ],
      });
    }
    if (parents.length) setStatus(t, route, { parents });
  };

  const syncRoutes = (): void => {
    for (const kind of ROUTE_KINDS) {
      const t = type(kind);
      if (t) for (const r of store.list(t)) syncRoute(t, r);
    }
  };

  return store.subscribe((ev: StoreEvent) => {
    if (ev.type_.group !== GROUP || ev.type === 'DELETED') return;
    // Status writes of our own come back as events too: only spec changes (and new objects) matter.
    setImmediate(() => {
      if (ev.type_.kind === 'Gateway' || ev.type_.kind === 'GatewayClass') {
        const t = type('Gateway');
        if (t) for (const gw of store.list(t)) syncGateway(gw);
        syncRoutes();
      } else if (ROUTE_KINDS.includes(ev.type_.kind)) {
        const current = store.get(ev.type_, ev.object.metadata.namespace, ev.object.metadata.name ?? '');
        if (current) syncRoute(ev.type_, current);
      }
    });
  });
}

/** A listener hostname (maybe `*.example.com`) against a route hostname. */
function hostMatches(listener: string, host: string): boolean {
  if (listener.startsWith('*.'))
    return host.endsWith(listener.slice(1)) && host.split('.').length > listener.split('.').length - 1;
  return listener === host;
}
