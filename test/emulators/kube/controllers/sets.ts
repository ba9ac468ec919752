// StatefulSet and DaemonSet controllers, simplified: a StatefulSet runs `<name>-0..n-1` (one at a
// time unless podManagementPolicy is Parallel) and rolls a template change from the highest
// ordinal down; a DaemonSet runs one pod on the emulator's single node.
import type { KObject } from '../store.js';
import { NODE_NAME, randomSuffix, type Runtime } from './runtime.js';
import { type PodTemplate, omitEmpty, podActive, podFromTemplate, podReady, templateHash } from './util.js';

const REV_LABEL = 'controller-revision-hash';
const NODE_LABELS: Record<string, string> = {
  'kubernetes.io/hostname': NODE_NAME,
  'kubernetes.io/os': 'linux',
  'kubernetes.io/arch': 'amd64',
};

interface StatefulSetSpec {
  replicas?: number;
  template?: PodTemplate;
  serviceName?: string;
  podManagementPolicy?: string;
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
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
    const pod = rt.create(
      'Pod',
      podFromTemplate(
        sts,
        `${name}-${i}`,
        spec.template,
        {
          [REV_LABEL]: updateRevision,
          'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
          'apps.kubernetes.io/pod-index': String(i),
        },
        { hostname: `${name}-${i}`, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}) },
      ),
    );
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
  const fits = Object.entries(selector).every(([k, v]) => NODE_LABELS[k] === v);
  const desired = fits ? 1 : 0;
  const pods = () => rt.owned('Pod', ns, uid).filter(podActive);

  const existing = pods();
  for (const p of existing.slice(desired)) rt.remove('Pod', ns, p.metadata.name ?? '');
  // Rolling update with maxUnavailable 1 on one node: delete the outdated pod, then recreate.
  const outdated = existing.slice(0, desired).filter((p) => p.metadata.labels?.[REV_LABEL] !== hash);
  for (const p of outdated) {
    rt.remove('Pod', ns, p.metadata.name ?? '');
    rt.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'daemonset-controller');
  }
  if (pods().length < desired) {
    const pod = rt.create(
      'Pod',
      podFromTemplate(ds, `${name}-${randomSuffix()}`, spec.template, {
        [REV_LABEL]: hash,
        'pod-template-generation': String(ds.metadata.generation ?? 1),
      }),
    );
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
