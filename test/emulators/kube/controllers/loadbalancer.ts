// A load-balancer controller, as a cloud provider's (or MetalLB, cloud-provider-kind) is: every
// Service of type LoadBalancer gets an address in status.loadBalancer.ingress, which is what
// waiting for such a Service looks for.
import type { Runtime } from './runtime.js';

/** Addresses handed out, as MetalLB's default pool on kind's Docker network would. */
const POOL_PREFIX = '172.18.255.';

export function registerLoadBalancers(rt: Runtime): void {
  let next = 1;
  rt.on('Service', (ev) => {
    if (ev.type !== 'DELETED')
      rt.enqueue('Service', ev.object.metadata.namespace ?? '', ev.object.metadata.name ?? '');
  });
  rt.reconciler('Service', (ns, name) => {
    rt.mutate('Service', ns, name, (s) => {
      const spec = (s.spec ?? {}) as { type?: string };
      const status = (s.status ?? {}) as { loadBalancer?: { ingress?: unknown[] } };
      const assigned = Boolean(status.loadBalancer?.ingress?.length);
      if (spec.type === 'LoadBalancer' ? assigned : !assigned) return false;
      // A Service changed away from LoadBalancer gives its address back.
      s.status = {
        ...status,
        loadBalancer:
          spec.type === 'LoadBalancer' ? { ingress: [{ ip: `${POOL_PREFIX}${next++}`, ipMode: 'VIP' }] } : {},
      };
    });
  });
}
