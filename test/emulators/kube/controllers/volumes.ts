// The simulated persistent-volume controller with kind's local-path provisioner: a claim of an
// Immediate class is provisioned at once; one of a WaitForFirstConsumer class (kind's default
// `standard`) waits, with a WaitForFirstConsumer event, until the scheduler places a pod that
// uses it (the selected-node annotation), then gets a `pvc-<uid>` PersistentVolume and is Bound.
// A claim whose class does not exist, or with no class, stays Pending as on a real cluster.
import type { KObject } from '../store.js';
import { type Runtime } from './runtime.js';
import { SELECTED_NODE } from './scheduler.js';
import type { PodSpec } from './util.js';

const COMPONENT = 'persistentvolume-controller';

interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: Record<string, string> };
  storageClassName?: string;
  volumeName?: string;
  volumeMode?: string;
}

export interface Volumes {
  /** The scheduler placed `pod` on `node`: its waiting claims are provisioned there. */
  podBound(pod: KObject, node: string): void;
}

export function registerVolumes(rt: Runtime): Volumes {
  const provisioning = new Set<string>();
  const waitingNoted = new Set<string>();

  rt.on('PersistentVolumeClaim', (ev) => {
    if (ev.type === 'DELETED') {
      waitingNoted.delete(ev.object.metadata.uid ?? '');
      return;
    }
    rt.enqueue('PersistentVolumeClaim', ev.object.metadata.namespace ?? '', ev.object.metadata.name ?? '');
  });

  rt.reconciler('PersistentVolumeClaim', (ns, name) => {
    const claim = rt.get('PersistentVolumeClaim', ns, name);
    if (!claim || claim.metadata.deletionTimestamp || phase(claim) === 'Bound') return;
    const spec = (claim.spec ?? {}) as ClaimSpec;
    const cls = spec.storageClassName ? rt.get('StorageClass', '', spec.storageClassName) : undefined;
    if (!cls) return;
    const uid = claim.metadata.uid ?? '';
    const node = claim.metadata.annotations?.[SELECTED_NODE];
    if (cls.volumeBindingMode === 'WaitForFirstConsumer' && !node) {
      if (!waitingNoted.has(uid)) {
        waitingNoted.add(uid);
        rt.event(
          claim,
          'Normal',
          'WaitForFirstConsumer',
          'waiting for first consumer to be created before binding',
          COMPONENT,
        );
      }
      return;
    }
    if (provisioning.has(uid)) return;
    provisioning.add(uid);
    rt.after(rt.options.readyDelayMs, () => {
      provisioning.delete(uid);
      provision(rt, ns, name, uid, String(cls.provisioner ?? ''), node);
    });
  });

  return {
    podBound(pod, node) {
      const ns = pod.metadata.namespace ?? '';
      const volumes = ((pod.spec as PodSpec | undefined)?.volumes ?? []) as {
        persistentVolumeClaim?: { claimName?: string };
      }[];
      for (const v of volumes) {
        const claimName = v.persistentVolumeClaim?.claimName;
        if (!claimName) continue;
        rt.mutate('PersistentVolumeClaim', ns, claimName, (c) => {
          if (phase(c) === 'Bound' || c.metadata.annotations?.[SELECTED_NODE]) return false;
          c.metadata.annotations = { ...(c.metadata.annotations ?? {}), [SELECTED_NODE]: node };
        });
      }
    },
  };
}

function phase(o: KObject): string | undefined {
  return (o.status as { phase?: string } | undefined)?.phase;
}

function provision(
  rt: Runtime,
  ns: string,
  name: string,
  uid: string,
  provisioner: string,
  node: string | undefined,
): void {
  const claim = rt.get('PersistentVolumeClaim', ns, name);
  if (!claim || claim.metadata.uid !== uid || claim.metadata.deletionTimestamp) return;
  const spec = (claim.spec ?? {}) as ClaimSpec;
  const pvName = `pvc-${uid}`;
  const storage = spec.resources?.requests?.storage ?? '';
  rt.create('PersistentVolume', {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: pvName,
      annotations: { 'pv.kubernetes.io/provisioned-by': provisioner },
      finalizers: ['kubernetes.io/pv-protection'],
    },
    spec: {
      accessModes: spec.accessModes ?? [],
      capacity: { storage },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: ns,
        name,
        uid,
        resourceVersion: claim.metadata.resourceVersion,
      },
      hostPath: { path: `/var/local-path-provisioner/${pvName}_${ns}_${name}`, type: 'DirectoryOrCreate' },
      ...(node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
                ],
              },
            },
          }
        : {}),
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: spec.storageClassName,
      volumeMode: spec.volumeMode ?? 'Filesystem',
    },
    status: { phase: 'Bound' },
  });
  const bound = rt.mutate('PersistentVolumeClaim', ns, name, (o) => {
    if (o.metadata.uid !== uid) return false;
    (o.spec as ClaimSpec).volumeName ??= pvName;
    o.metadata.annotations = {
      ...(o.metadata.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      'volume.beta.kubernetes.io/storage-provisioner': provisioner,
      'volume.kubernetes.io/storage-provisioner': provisioner,
    };
    o.status = { phase: 'Bound', accessModes: spec.accessModes ?? [], capacity: { storage } };
  });
  if (bound)
    rt.event(
      bound,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName}`,
      `${provisioner}_local-path-provisioner`,
    );
}
