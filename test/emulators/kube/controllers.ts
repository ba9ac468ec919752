// Simulated controllers of the Kubernetes API emulator: what kube-controller-manager, the
// scheduler and a kubelet would do to objects in the store, so that kubectl and client-node see
// realistic state (Deployments become Available, bad images show ImagePullBackOff with Events,
// crashing containers CrashLoopBackOff with logs, Jobs complete or fail).
//
// Everything reacts to store events; delays are timers, all cleared by stop().
// The pieces live in controllers/*.ts; this file wires them and owns garbage collection.
import type { Store } from './store.js';
import { registerDeployments } from './controllers/deployment.js';
import { registerEndpoints } from './controllers/endpoints.js';
import { registerJobs } from './controllers/job.js';
import { registerKubelet } from './controllers/kubelet.js';
import { registerGateways } from './controllers/gateway.js';
import { registerLoadBalancers } from './controllers/loadbalancer.js';
import { DEFAULT_CONTROLLER_OPTIONS, type ControllerOptions, Runtime } from './controllers/runtime.js';
import { registerScheduler } from './controllers/scheduler.js';
import { startQuotaController } from './quota.js';
import { registerSets } from './controllers/sets.js';
import { registerVolumes } from './controllers/volumes.js';

export { DEFAULT_CONTROLLER_OPTIONS, NODE_NAME, HOST_IP } from './controllers/runtime.js';
export type { ControllerOptions } from './controllers/runtime.js';

export interface Controllers {
  stop(): void;
  /** Current log of a pod's container (the first one when not named); undefined if it never started. */
  podLog(namespace: string, pod: string, container?: string): string | undefined;
  /** Mutable at runtime: changes apply to what happens next (new pods, next back-off). */
  options: ControllerOptions;
  /** Errors thrown by reconciles (kept, not thrown: the emulator must keep serving). */
  readonly errors: readonly string[];
  /** Live timers and queued work; 0 after stop(). */
  pendingTimers(): number;
}

/** Kinds whose deletion takes their dependents along (background cascading deletion). */
const OWNER_KINDS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'];
const DEPENDENT_KINDS = ['ReplicaSet', 'Pod', 'PersistentVolumeClaim'];

export function startControllers(store: Store, opts: Partial<ControllerOptions> = {}): Controllers {
  const rt = new Runtime(store, { ...DEFAULT_CONTROLLER_OPTIONS, ...opts });
  const volumes = registerVolumes(rt);
  registerScheduler(rt, (pod, node) => volumes.podBound(pod, node));
  const kubelet = registerKubelet(rt);
  registerDeployments(rt);
  registerSets(rt);
  registerJobs(rt);
  registerEndpoints(rt);
  registerLoadBalancers(rt);

  // A pod's change concerns its controller (RS, StatefulSet, DaemonSet, Job).
  rt.on('Pod', (ev) => rt.enqueueOwner(ev.object));

  // Garbage collection by ownerReferences. The HTTP layer may do the same; removing an object
  // that is already gone is a no-op, so both can run.
  for (const kind of OWNER_KINDS) {
    rt.on(kind, (ev) => {
      if (ev.type === 'DELETED' && ev.object.metadata.uid)
        rt.enqueue('GC', ev.object.metadata.namespace ?? '', ev.object.metadata.uid);
    });
  }
  rt.reconciler('GC', (ns, uid) => {
    for (const kind of DEPENDENT_KINDS) {
      for (const o of rt.list(kind, ns)) {
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid))
          rt.remove(kind, ns, o.metadata.name ?? '');
      }
    }
  });

  rt.start();
  const stopGateways = registerGateways(store);
  const stopQuota = startQuotaController(store);
  return {
    stop: () => {
      stopGateways();
      stopQuota();
      rt.stop();
    },
    podLog: (namespace, pod, container) => kubelet.podLog(namespace, pod, container),
    options: rt.options,
    errors: rt.errors,
    pendingTimers: () => rt.timerCount,
  };
}
