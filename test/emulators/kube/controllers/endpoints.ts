// Endpoints controller: for each Service with a selector, an Endpoints object of the same name
// listing the matching pods' IPs (ready ones under `addresses`, the others under
// `notReadyAddresses`) with the Service's ports resolved to container ports.
import type { KObject } from '../store.js';
import { NODE_NAME, type Runtime } from './runtime.js';
import { type PodSpec, podReady, podTerminal } from './util.js';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  type?: string;
}

const selects = (sel: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Boolean(sel && Object.keys(sel).length) && Object.entries(sel ?? {}).every(([k, v]) => labels?.[k] === v);

export function registerEndpoints(rt: Runtime): void {
  rt.on('Service', (ev) => {
    const s = ev.object;
    const ns = s.metadata.namespace ?? '';
    const name = s.metadata.name ?? '';
    if (ev.type === 'DELETED') {
      // The Endpoints of a selector Service are ours; one the user manages (no selector) is not.
      if ((s.spec as ServiceSpec | undefined)?.selector) rt.enqueue('Endpoints', ns, name);
      return;
    }
    rt.enqueue('Endpoints', ns, name);
  });
  rt.on('Pod', (ev, previous) => {
    const ns = ev.object.metadata.namespace ?? '';
    for (const s of rt.list('Service', ns)) {
      const sel = (s.spec as ServiceSpec | undefined)?.selector;
      if (selects(sel, ev.object.metadata.labels) || selects(sel, previous?.metadata.labels))
        rt.enqueue('Endpoints', ns, s.metadata.name ?? '');
    }
  });

  rt.reconciler('Endpoints', (ns, name) => {
    const svc = rt.get('Service', ns, name);
    const spec = (svc?.spec ?? {}) as ServiceSpec;
    if (!svc || !spec.selector || spec.type === 'ExternalName') {
      if (
        !svc &&
        rt.get('Endpoints', ns, name)?.metadata.labels?.['endpoints.kubernetes.io/managed-by'] ===
          'endpoint-controller'
      ) {
        rt.remove('Endpoints', ns, name);
      }
      return;
    }
    if (rt.namespaceTerminating(ns)) return;
    const pods = rt
      .list('Pod', ns)
      .filter(
        (p) =>
          selects(spec.selector, p.metadata.labels) &&
          !podTerminal(p) &&
          !p.metadata.deletionTimestamp &&
          (p.status as { podIP?: string } | undefined)?.podIP,
      )
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const address = (p: KObject) => ({
      ip: (p.status as { podIP: string }).podIP,
      nodeName: (p.spec as { nodeName?: string } | undefined)?.nodeName ?? NODE_NAME,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    });
    const ready = pods.filter(podReady).map(address);
    const notReady = pods.filter((p) => !podReady(p)).map(address);
    const ports = (spec.ports ?? []).map((sp) => {
      const port: Record<string, unknown> = {
        port: resolvePort(sp, pods[0]),
        protocol: sp.protocol ?? 'TCP',
      };
      if (sp.name) port.name = sp.name;
      if (sp.appProtocol) port.appProtocol = sp.appProtocol;
      return port;
    });
    const subset: Record<string, unknown> = {};
    if (ready.length) subset.addresses = ready;
    if (notReady.length) subset.notReadyAddresses = notReady;
    subset.ports = ports;
    const subsets = pods.length ? [subset] : undefined;
    const labels = {
      ...(svc.metadata.labels ?? {}),
      'endpoints.kubernetes.io/managed-by': 'endpoint-controller',
    };

    if (!rt.get('Endpoints', ns, name)) {
      rt.create('Endpoints', {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace: ns, labels },
        ...(subsets ? { subsets } : {}),
      });
      return;
    }
    rt.mutate('Endpoints', ns, name, (e) => {
      e.metadata.labels = labels;
      if (subsets) e.subsets = subsets;
      else delete e.subsets;
    });
  });
}

/** targetPort as a number, a named container port of the first pod, or the service port. */
function resolvePort(sp: ServicePort, pod: KObject | undefined): number {
  if (typeof sp.targetPort === 'number') return sp.targetPort;
  if (typeof sp.targetPort === 'string' && sp.targetPort !== '') {
    if (/^\d+$/.test(sp.targetPort)) return Number(sp.targetPort);
    for (const c of ((pod?.spec ?? { containers: [] }) as PodSpec).containers ?? []) {
      const hit = c.ports?.find((p) => p.name === sp.targetPort);
      if (hit) return hit.containerPort;
    }
  }
  return sp.port;
}
