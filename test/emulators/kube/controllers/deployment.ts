// Deployment and ReplicaSet controllers, simplified from kube-controller-manager:
// a Deployment owns one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`); a template
// change creates a new ReplicaSet and scales the old ones down as the new one becomes available
// (Recreate: old ones first). Status and conditions are written the way `kubectl rollout status`
// and `kubectl wait --for=condition=Available` read them.
import type { KObject } from '../store.js';
import { nowTime, randomSuffix, type Runtime } from './runtime.js';
import {
  type Condition,
  type LabelSelectorObject,
  type PodTemplate,
  intOrPercent,
  omitEmpty,
  podActive,
  podFromTemplate,
  podReady,
  setCondition,
  templateHash,
} from './util.js';

const REVISION = 'deployment.kubernetes.io/revision';

interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelectorObject;
  template?: PodTemplate;
  strategy?: {
    type?: string;
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  paused?: boolean;
}

interface RSStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
}

interface DeploymentStatus {
  conditions?: Condition[];
  collisionCount?: number;
}

const replicasOf = (o: KObject): number => (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
const rsStatus = (o: KObject): RSStatus => (o.status as RSStatus | undefined) ?? {};
const revisionOf = (o: KObject): number => Number(o.metadata.annotations?.[REVISION] ?? 0) || 0;

export function registerDeployments(rt: Runtime): void {
  /** Per deployment uid: the last observed progress and when it happened (ms), for the deadline. */
  const progress = new Map<string, { sig: string; at: number; timer?: NodeJS.Timeout }>();

  rt.on('Deployment', (ev) => {
    const d = ev.object;
    if (ev.type === 'DELETED') {
      const p = progress.get(d.metadata.uid ?? '');
      rt.cancel(p?.timer);
      progress.delete(d.metadata.uid ?? '');
      return;
    }
    rt.enqueue('Deployment', d.metadata.namespace ?? '', d.metadata.name ?? '');
  });
  rt.on('ReplicaSet', (ev) => {
    if (ev.type !== 'DELETED')
      rt.enqueue('ReplicaSet', ev.object.metadata.namespace ?? '', ev.object.metadata.name ?? '');
    rt.enqueueOwner(ev.object);
  });

  /** Pod uid → when the ReplicaSet controller first saw it Ready (ms), for minReadySeconds. */
  const readySince = new Map<string, number>();
  rt.on('Pod', (ev) => {
    if (ev.type === 'DELETED') readySince.delete(ev.object.metadata.uid ?? '');
  });
  rt.reconciler('ReplicaSet', (ns, name) => reconcileReplicaSet(rt, ns, name, readySince));

  rt.reconciler('Deployment', (ns, name) => {
    const d = rt.get('Deployment', ns, name);
    if (!d || d.metadata.deletionTimestamp || rt.namespaceTerminating(ns)) return;
    const uid = d.metadata.uid ?? '';
    const spec = (d.spec ?? {}) as DeploymentSpec;
    const status = (d.status ?? {}) as DeploymentStatus;
    const desired = spec.replicas ?? 1;
    const recreate = spec.strategy?.type === 'Recreate';
    const hash = templateHash(spec.template, status.collisionCount);
    const owned = rt.owned('ReplicaSet', ns, uid);
    let newRS = owned.find((r) => r.metadata.labels?.['pod-template-hash'] === hash);
    const olds = () =>
      owned
        .filter((r) => r.metadata.name !== newRS?.metadata.name)
        .map((r) => rt.get('ReplicaSet', ns, r.metadata.name ?? '') ?? r);
    const maxOldRevision = Math.max(0, ...olds().map(revisionOf));
    const oldPods = olds().reduce((n, r) => n + (rsStatus(r).replicas ?? 0) + replicasOf(r), 0);
    let created = false;

    if (!spec.paused) {
      const target = recreate && oldPods > 0 ? 0 : desired;
      if (!newRS) {
        const wanted = newReplicaSet(d, hash, maxOldRevision + 1, target, desired);
        newRS = rt.create('ReplicaSet', wanted);
        if (!newRS) {
          // A same-named ReplicaSet without a controller (orphaned) is adopted, as the real one does.
          rt.mutate('ReplicaSet', ns, wanted.metadata.name ?? '', (r) => {
            if (r.metadata.ownerReferences?.some((o) => o.controller)) return false;
            r.metadata.ownerReferences = [
              ...(r.metadata.ownerReferences ?? []),
              ...(wanted.metadata.ownerReferences ?? []),
            ];
          });
          return; // the namespace is going away, or the adopted RS's event brings us back
        }
        created = true;
        rt.event(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${newRS.metadata.name} from 0 to ${target}`,
          'deployment-controller',
        );
      } else {
        const from = replicasOf(newRS);
        const rev = revisionOf(newRS) > maxOldRevision ? revisionOf(newRS) : maxOldRevision + 1;
        newRS =
          rt.mutate('ReplicaSet', ns, newRS.metadata.name ?? '', (r) => {
            const ann = (r.metadata.annotations ??= {});
            const rsSpec = r.spec as { replicas?: number; minReadySeconds?: number };
            if (
              replicasOf(r) === target &&
              ann[REVISION] === String(rev) &&
              ann['deployment.kubernetes.io/desired-replicas'] === String(desired) &&
              rsSpec.minReadySeconds === spec.minReadySeconds
            ) {
              return false;
            }
            rsSpec.replicas = target;
            if (spec.minReadySeconds === undefined) delete rsSpec.minReadySeconds;
            else rsSpec.minReadySeconds = spec.minReadySeconds;
            ann[REVISION] = String(rev);
            ann['deployment.kubernetes.io/desired-replicas'] = String(desired);
            ann['deployment.kubernetes.io/max-replicas'] = String(desired + maxSurge(spec, desired));
          }) ?? newRS;
        if (from !== target) {
          const verb = target > from ? 'up' : 'down';
          rt.event(
            d,
            'Normal',
            'ScalingReplicaSet',
            `Scaled ${verb} replica set ${newRS.metadata.name} from ${from} to ${target}`,
            'deployment-controller',
          );
        }
      }
      // Old ReplicaSets keep only as many pods as the new one still lacks (Recreate: none).
      let keep = recreate ? 0 : Math.max(0, desired - (rsStatus(newRS).availableReplicas ?? 0));
      for (const old of olds().sort((a, b) => revisionOf(b) - revisionOf(a))) {
        const from = replicasOf(old);
        const to = Math.min(from, keep);
        keep -= to;
        if (to === from) continue;
        rt.mutate('ReplicaSet', ns, old.metadata.name ?? '', (r) => {
          (r.spec as { replicas?: number }).replicas = to;
        });
        rt.event(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled down replica set ${old.metadata.name} from ${from} to ${to}`,
          'deployment-controller',
        );
      }
      // Revision history: drop the oldest empty ReplicaSets beyond the limit.
      const empty = olds()
        .filter((r) => replicasOf(r) === 0 && (rsStatus(r).replicas ?? 0) === 0)
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      const limit = spec.revisionHistoryLimit ?? 10;
      for (const r of empty.slice(0, Math.max(0, empty.length - limit)))
        rt.remove('ReplicaSet', ns, r.metadata.name ?? '');
    }
    if (!newRS) return;

    // Status from the ReplicaSets as they are now (the cache is updated synchronously by writes).
    const all = [rt.get('ReplicaSet', ns, newRS.metadata.name ?? '') ?? newRS, ...olds()];
    const sum = (f: (r: KObject) => number) => all.reduce((n, r) => n + f(r), 0);
    const replicas = sum((r) => rsStatus(r).replicas ?? 0);
    const updated = rsStatus(all[0]).replicas ?? 0;
    const ready = sum((r) => rsStatus(r).readyReplicas ?? 0);
    const available = sum((r) => rsStatus(r).availableReplicas ?? 0);
    const unavailable = Math.max(0, sum(replicasOf) - available);
    const rsName = newRS.metadata.name ?? '';
    const complete = updated === desired && replicas === desired && available === desired;
    const minAvailable = desired - (recreate ? 0 : maxUnavailable(spec, desired));

    const now = Date.now();
    const sig = `${rsName}|${replicas}|${updated}|${ready}|${available}|${desired}`;
    let p = progress.get(uid);
    if (!p) progress.set(uid, (p = { sig: '', at: now }));
    const progressed = p.sig !== sig;
    if (progressed) {
      p.sig = sig;
      p.at = now;
    }
    const deadlineMs = rt.scaled(spec.progressDeadlineSeconds ?? 600);
    const stamp = nowTime();
    let conds = status.conditions ?? [];
    conds = setCondition(
      conds,
      available >= minAvailable
        ? {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      stamp,
      { updateTime: true },
    );
    const prevProgressing = conds.find((c) => c.type === 'Progressing');
    let timedOut = false;
    if (spec.paused) {
      conds = setCondition(
        conds,
        {
          type: 'Progressing',
          status: 'Unknown',
          reason: 'DeploymentPaused',
          message: 'Deployment is paused',
        },
        stamp,
        { updateTime: true },
      );
    } else if (complete) {
      conds = setCondition(
        conds,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        },
        stamp,
        {
          updateTime: true,
        },
      );
    } else if (created) {
      conds = setCondition(
        conds,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetCreated',
          message: `Created new replica set "${rsName}"`,
        },
        stamp,
        {
          updateTime: true,
        },
      );
    } else if (
      now - p.at >= deadlineMs &&
      !(prevProgressing?.reason === 'NewReplicaSetAvailable' && !progressed)
    ) {
      timedOut = true;
      conds = setCondition(
        conds,
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${rsName}" has timed out progressing.`,
        },
        stamp,
        {
          updateTime: true,
        },
      );
    } else if (progressed || !prevProgressing || prevProgressing.status !== 'True') {
      const reason = prevProgressing || created ? 'ReplicaSetUpdated' : 'FoundNewReplicaSet';
      const message =
        reason === 'ReplicaSetUpdated'
          ? `ReplicaSet "${rsName}" is progressing.`
          : `Found new replica set "${rsName}"`;
      conds = setCondition(conds, { type: 'Progressing', status: 'True', reason, message }, stamp, {
        updateTime: true,
        touch: true,
      });
    }
    if (timedOut && prevProgressing?.reason !== 'ProgressDeadlineExceeded') {
      rt.event(
        d,
        'Warning',
        'ProgressDeadlineExceeded',
        `Deployment "${d.metadata.name}" has timed out progressing.`,
        'deployment-controller',
      );
    }
    // Wake up when the deadline passes without progress (no polling).
    rt.cancel(p.timer);
    p.timer = undefined;
    if (!complete && !timedOut && !spec.paused) {
      p.timer = rt.after(p.at + deadlineMs - now + 1, () => rt.enqueue('Deployment', ns, name));
    }

    // The new ReplicaSet's ReplicaFailure shows on the Deployment too (syncRolloutStatus).
    const rsFailure = (
      (rt.get('ReplicaSet', ns, rsName)?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []
    ).find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    conds = rsFailure
      ? setCondition(
          conds,
          { type: 'ReplicaFailure', status: 'True', reason: rsFailure.reason, message: rsFailure.message },
          stamp,
          { updateTime: true },
        )
      : conds.filter((c) => c.type !== 'ReplicaFailure');
    const revision = rt.get('ReplicaSet', ns, rsName)?.metadata.annotations?.[REVISION];
    rt.mutate('Deployment', ns, name, (o) => {
      if (o.metadata.uid !== uid) return false;
      if (revision) (o.metadata.annotations ??= {})[REVISION] = revision;
      const cur = (o.status ?? {}) as Record<string, unknown>;
      o.status = omitEmpty({
        observedGeneration: o.metadata.generation,
        replicas,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: unavailable,
        conditions: conds,
        collisionCount: cur.collisionCount,
      });
    });
  });
}

function maxUnavailable(spec: DeploymentSpec, desired: number): number {
  const v = intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, desired, '25%');
  // Both zero is invalid in a real API server; with surge 0 the controller allows one.
  return Math.min(desired, v === 0 && maxSurge(spec, desired) === 0 ? 1 : v);
}

function maxSurge(spec: DeploymentSpec, desired: number): number {
  if (spec.strategy?.type === 'Recreate') return 0;
  return intOrPercent(spec.strategy?.rollingUpdate?.maxSurge, desired, '25%', true);
}

function newReplicaSet(
  d: KObject,
  hash: string,
  revision: number,
  replicas: number,
  desired: number,
): KObject {
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const template = structuredClone(spec.template ?? {}) as PodTemplate;
  template.metadata = {
    ...(template.metadata ?? {}),
    labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
  };
  const selector: LabelSelectorObject = structuredClone(spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), 'pod-template-hash': hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(desired),
        'deployment.kubernetes.io/max-replicas': String(desired + maxSurge(spec, desired)),
        [REVISION]: String(revision),
      },
      ownerReferences: [
        {
          apiVersion: d.apiVersion,
          kind: d.kind,
          name: d.metadata.name ?? '',
          uid: d.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      replicas,
      ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
      selector,
      template,
    },
  };
}

/** Consecutive pod-creation refusals per ReplicaSet uid (the work queue's backoff). */
const createFailures = new Map<string, number>();

function reconcileReplicaSet(rt: Runtime, ns: string, name: string, readySince: Map<string, number>): void {
  const rs = rt.get('ReplicaSet', ns, name);
  if (!rs) return;
  const uid = rs.metadata.uid;
  const spec = (rs.spec ?? {}) as { replicas?: number; template?: PodTemplate; minReadySeconds?: number };
  const desired = spec.replicas ?? 1;
  const active = rt.owned('Pod', ns, uid).filter(podActive);
  const canCreate = !rs.metadata.deletionTimestamp && !rt.namespaceTerminating(ns);
  let failure: string | undefined;
  if (active.length < desired && canCreate) {
    for (let i = active.length; i < desired; i++) {
      const wanted = podFromTemplate(rs, `${name}-${randomSuffix()}`, spec.template, {});
      // The API server may refuse the pod (LimitRange, Pod Security, quota): the controller
      // records why and retries.
      failure = rt.admissionDenial(wanted, `${name}-`);
      if (failure) {
        rt.event(rs, 'Warning', 'FailedCreate', `Error creating: ${failure}`, 'replicaset-controller');
        // The controller's work queue backs off per key: 5 ms doubling up to 1000 s.
        const failures = (createFailures.get(uid ?? '') ?? 0) + 1;
        createFailures.set(uid ?? '', failures);
        rt.after(rt.scaled(Math.min(1000, 0.005 * 2 ** failures)), () => rt.enqueue('ReplicaSet', ns, name));
        break;
      }
      const pod = rt.create('Pod', wanted);
      if (!pod) continue;
      createFailures.delete(uid ?? '');
      rt.event(
        rs,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${pod.metadata.name}`,
        'replicaset-controller',
      );
    }
  } else if (active.length > desired) {
    // Like the real controller: delete not-ready pods first, then the youngest.
    const victims = [...active]
      .sort(
        (a, b) =>
          Number(podReady(a)) - Number(podReady(b)) ||
          (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
      )
      .slice(0, active.length - desired);
    for (const v of victims) {
      rt.remove('Pod', ns, v.metadata.name ?? '');
      rt.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, 'replicaset-controller');
    }
  }
  const pods = rt.owned('Pod', ns, uid).filter(podActive);
  const readyPods = pods.filter(podReady);
  for (const p of pods) if (!podReady(p)) readySince.delete(p.metadata.uid ?? '');
  // Available: Ready for at least minReadySeconds (scaled); wake up when the next one gets there.
  const now = Date.now();
  const minReadyMs = rt.scaled(spec.minReadySeconds ?? 0);
  let available = 0;
  let wake = Infinity;
  for (const p of readyPods) {
    const puid = p.metadata.uid ?? '';
    if (!readySince.has(puid)) readySince.set(puid, now);
    const left = readySince.get(puid)! + minReadyMs - now;
    if (left <= 0) available++;
    else wake = Math.min(wake, left);
  }
  if (wake !== Infinity) rt.after(wake + 1, () => rt.enqueue('ReplicaSet', ns, name));
  const ready = readyPods.length;
  rt.mutate('ReplicaSet', ns, name, (o) => {
    if (o.metadata.uid !== uid) return false;
    const prev = ((o.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter(
      (c) => c.type === 'ReplicaFailure',
    );
    const conditions = failure
      ? setCondition(
          prev,
          { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure },
          nowTime(),
        )
      : active.length >= desired
        ? []
        : prev;
    o.status = {
      replicas: pods.length,
      ...omitEmpty({ fullyLabeledReplicas: pods.length, readyReplicas: ready, availableReplicas: available }),
      observedGeneration: o.metadata.generation,
      ...(conditions.length ? { conditions } : {}),
    };
  });
}
