// StatefulSet and DaemonSet controllers, simplified: a StatefulSet runs `<name>-0..n-1` (one at a
// time unless podManagementPolicy is Parallel) and rolls a template change from the highest
// ordinal down; a DaemonSet runs one pod on the emulator's single node.
import { admitClaim } from '../admission.js';
import type { KObject, ObjectMeta } from '../store.js';
import { randomSuffix, type Runtime } from './runtime.js';
import {
  type LabelSelectorObject,
  type PodTemplate,
  omitEmpty,
  podActive,
  podFromTemplate,
  podReady,
  templateHash,
} from './util.js';

const REV_LABEL = 'controller-revision-hash';

interface StatefulSetSpec {
  replicas?: number;
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: string;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  selector?: LabelSelectorObject;
  volumeClaimTemplates?: ClaimTemplate[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: Record<string, string> };
  [key: string]: unknown;
}

interface ClaimTemplate {
  metadata?: ObjectMeta;
  spec?: ClaimSpec;
}

export function registerSets(rt: Runtime): void {
  for (const kind of ['StatefulSet', 'DaemonSet']) {
    rt.on(kind, (ev) => {
      if (ev.type !== 'DELETED')
        rt.enqueue(kind, ev.object.metadata.namespace ?? '', ev.object.metadata.name ?? '');
    });
  }
  rt.reconciler('StatefulSet', (ns, name) => reconcileStatefulSet(rt, ns, name));
  rt.reconciler('DaemonSet', (ns, name) => reconcileDaemonSet(rt, ns, name));
}

/**
 * The claims of one ordinal (getPersistentVolumeClaims + createPersistentVolumeClaims): made from
 * the volumeClaimTemplates when missing, reused as they are otherwise; returns the pod volumes
 * that mount them. Owned by the StatefulSet only under whenDeleted: Delete, as the real one.
 */
function ensureClaims(
  rt: Runtime,
  sts: KObject,
  spec: StatefulSetSpec,
  ordinal: number,
): Record<string, unknown>[] {
  const ns = sts.metadata.namespace ?? '';
  const volumes: Record<string, unknown>[] = [];
  for (const tmpl of spec.volumeClaimTemplates ?? []) {
    const tmplName = tmpl.metadata?.name ?? '';
    const claimName = `${tmplName}-${sts.metadata.name}-${ordinal}`;
    volumes.push({ name: tmplName, persistentVolumeClaim: { claimName } });
    let claim = rt.get('PersistentVolumeClaim', ns, claimName);
    if (!claim) {
      const owned = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
      const wanted: KObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: claimName,
          namespace: ns,
          labels: { ...(tmpl.metadata?.labels ?? {}), ...(spec.selector?.matchLabels ?? {}) },
          ...(tmpl.metadata?.annotations ? { annotations: { ...tmpl.metadata.annotations } } : {}),
          ...(owned
            ? {
                ownerReferences: [
                  {
                    apiVersion: sts.apiVersion,
                    kind: sts.kind,
                    name: sts.metadata.name ?? '',
                    uid: sts.metadata.uid ?? '',
                    controller: true,
                    blockOwnerDeletion: true,
                  },
                ],
              }
            : {}),
        },
        spec: { volumeMode: 'Filesystem', ...structuredClone(tmpl.spec ?? {}) },
        status: { phase: 'Pending' },
      };
      admitClaim(wanted, rt.listAll('StorageClass'));
      claim = rt.create('PersistentVolumeClaim', wanted);
      if (claim)
        rt.event(
          sts,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${claimName} Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} success`,
          'statefulset-controller',
        );
    }
  }
  return volumes;
}

function reconcileStatefulSet(rt: Runtime, ns: string, name: string): void {
  const sts = rt.get('StatefulSet', ns, name);
  if (!sts || sts.metadata.deletionTimestamp || rt.namespaceTerminating(ns)) return;
  const uid = sts.metadata.uid;
  const spec = (sts.spec ?? {}) as StatefulSetSpec;
  const desired = spec.replicas ?? 1;
  const updateRevision = `${name}-${templateHash(spec.template)}`;
  const parallel = spec.podManagementPolicy === 'Parallel';
  const ordinal = (p: KObject) => Number((p.metadata.name ?? '').slice(name.length + 1));
  const pods = () =>
    rt
      .owned('Pod', ns, uid)
      .filter(podActive)
      .sort((a, b) => ordinal(a) - ordinal(b));

  // Create missing ordinals: all at once (Parallel) or the lowest missing once all below are Ready.
  const have = new Map(pods().map((p) => [ordinal(p), p]));
  for (let i = 0; i < desired; i++) {
    const existing = have.get(i);
    if (existing) {
      if (!parallel && !podReady(existing)) break;
      continue;
    }
    // A finished pod with this name blocks the ordinal until it is gone; replace it.
    const stale = rt.get('Pod', ns, `${name}-${i}`);
    if (stale) {
      if (!stale.metadata.deletionTimestamp) rt.remove('Pod', ns, `${name}-${i}`);
      if (!parallel) break;
      continue;
    }
    // The claims first, then the pod mounting them (updateStorage: claim volumes replace
    // template volumes of the same name and come first).
    const claimVolumes = ensureClaims(rt, sts, spec, i);
    const claimNames = new Set(claimVolumes.map((v) => v.name));
    const templateVolumes = Array.isArray(spec.template?.spec?.volumes)
      ? (spec.template.spec.volumes as { name?: string }[])
      : [];
    const volumes = [...claimVolumes, ...templateVolumes.filter((v) => !claimNames.has(v.name))];
    const wanted = podFromTemplate(
      sts,
      `${name}-${i}`,
      spec.template,
      {
        [REV_LABEL]: updateRevision,
        'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
        'apps.kubernetes.io/pod-index': String(i),
      },
      {
        hostname: `${name}-${i}`,
        ...(spec.serviceName ? { subdomain: spec.serviceName } : {}),
        ...(volumes.length ? { volumes } : {}),
      },
    );
    const failure = rt.admissionDenial(wanted, `${name}-${i}`);
    if (failure) {
      rt.event(
        sts,
        'Warning',
        'FailedCreate',
        `create Pod ${name}-${i} in StatefulSet ${name} failed error: ${failure}`,
        'statefulset-controller',
      );
      rt.after(rt.scaled(10), () => rt.enqueue('StatefulSet', ns, name));
      break;
    }
    const pod = rt.create('Pod', wanted);
    if (pod)
      rt.event(
        sts,
        'Normal',
        'SuccessfulCreate',
        `create Pod ${name}-${i} in StatefulSet ${name} successful`,
        'statefulset-controller',
      );
    if (!parallel) break;
  }
  // Scale down from the highest ordinal.
  const extra = pods().filter((p) => ordinal(p) >= desired);
  for (const p of parallel ? extra : extra.slice(-1)) {
    rt.remove('Pod', ns, p.metadata.name ?? '');
    rt.event(
      sts,
      'Normal',
      'SuccessfulDelete',
      `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`,
      'statefulset-controller',
    );
  }
  // Rolling update: once everything is Ready, replace the highest outdated ordinal ≥ partition.
  const current = pods();
  const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (spec.updateStrategy?.type !== 'OnDelete' && current.length === desired && current.every(podReady)) {
    const outdated = current.filter(
      (p) => p.metadata.labels?.[REV_LABEL] !== updateRevision && ordinal(p) >= partition,
    );
    const victim = outdated[outdated.length - 1];
    if (victim) {
      rt.remove('Pod', ns, victim.metadata.name ?? '');
      rt.event(
        sts,
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${victim.metadata.name} in StatefulSet ${name} successful`,
        'statefulset-controller',
      );
    }
  }

  const now = pods();
  const ready = now.filter(podReady).length;
  const updated = now.filter((p) => p.metadata.labels?.[REV_LABEL] === updateRevision).length;
  rt.mutate('StatefulSet', ns, name, (o) => {
    if (o.metadata.uid !== uid) return false;
    const prev = (o.status ?? {}) as { currentRevision?: string };
    // The rollout is done when every replica runs the update revision; until then "current" stays.
    const currentRevision =
      updated === desired && now.length === desired
        ? updateRevision
        : (prev.currentRevision ?? updateRevision);
    const currentReplicas = now.filter((p) => p.metadata.labels?.[REV_LABEL] === currentRevision).length;
    o.status = {
      observedGeneration: o.metadata.generation,
      replicas: now.length,
      ...omitEmpty({ readyReplicas: ready, currentReplicas, updatedReplicas: updated }),
      currentRevision,
      updateRevision,
      collisionCount: 0,
      availableReplicas: ready,
    };
  });
}

function reconcileDaemonSet(rt: Runtime, ns: string, name: string): void {
  const ds = rt.get('DaemonSet', ns, name);
  if (!ds || ds.metadata.deletionTimestamp || rt.namespaceTerminating(ns)) return;
  const uid = ds.metadata.uid;
  const spec = (ds.spec ?? {}) as { template?: PodTemplate };
  const hash = templateHash(spec.template);
  const selector = spec.template?.spec?.nodeSelector ?? {};
  // One pod per node whose labels match the template's nodeSelector, placed there directly.
  const nodes = rt
    .listAll('Node')
    .filter((n) => Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v))
    .map((n) => n.metadata.name ?? '')
    .sort();
  const desired = nodes.length;
  const pods = () => rt.owned('Pod', ns, uid).filter(podActive);
  const nodeOf = (p: KObject) => (p.spec as { nodeName?: string } | undefined)?.nodeName ?? '';

  for (const p of pods()) {
    // Off a matching node (or a second one on a node), or outdated: delete; it is recreated below.
    const twin = pods().find(
      (q) => q !== p && nodeOf(q) === nodeOf(p) && q.metadata.name! < p.metadata.name!,
    );
    const outdated = p.metadata.labels?.[REV_LABEL] !== hash;
    if (!nodes.includes(nodeOf(p)) || twin || outdated) {
      rt.remove('Pod', ns, p.metadata.name ?? '');
      if (outdated)
        rt.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'daemonset-controller');
    }
  }
  for (const node of nodes) {
    if (pods().some((p) => nodeOf(p) === node)) continue;
    const wanted = podFromTemplate(
      ds,
      `${name}-${randomSuffix()}`,
      spec.template,
      { [REV_LABEL]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      { nodeName: node },
    );
    const failure = rt.admissionDenial(wanted, `${name}-`);
    if (failure) {
      rt.event(ds, 'Warning', 'FailedCreate', `Error creating: ${failure}`, 'daemonset-controller');
      rt.after(rt.scaled(10), () => rt.enqueue('DaemonSet', ns, name));
      break;
    }
    const pod = rt.create('Pod', wanted);
    if (pod)
      rt.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'daemonset-controller');
  }

  const now = pods();
  const ready = now.filter(podReady).length;
  const updated = now.filter((p) => p.metadata.labels?.[REV_LABEL] === hash).length;
  rt.mutate('DaemonSet', ns, name, (o) => {
    if (o.metadata.uid !== uid) return false;
    o.status = {
      currentNumberScheduled: now.length,
      desiredNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: ready,
      observedGeneration: o.metadata.generation,
      ...omitEmpty({
        updatedNumberScheduled: updated,
        numberAvailable: ready,
        numberUnavailable: Math.max(0, desired - ready),
      }),
    };
  });
}
